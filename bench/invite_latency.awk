# invite_latency.awk — INVITE -> 200 OK latency per call from a SIPp message
# log (-trace_msg), whose separator lines carry gettimeofday() timestamps in
# microseconds (SIPp's own rtd and -trace_rtt tick with the kernel's coarse
# clock: 4 ms steps on this machine).
#
# For every Call-ID: the first INVITE sent and the first 200 response whose
# CSeq method is INVITE (RFC 3261 13.2.2.4). Prints one line per answered call:
#   SECONDS_OF_200  LATENCY_MS
# (POSIX awk: works with mawk.) Usage: awk -f invite_latency.awk FILE_messages.log
function flush() {
	if (first == "" || cid == "") return
	if (dir == "S" && first ~ /^INVITE / && !(cid in inv)) inv[cid] = t
	if (dir == "R" && first ~ /^SIP\/2\.0 200 / && cseq == "INVITE" && (cid in inv) && !(cid in ok)) {
		ok[cid] = t
		printf "%.6f %.3f\n", t, (t - inv[cid]) * 1000
	}
}
function secs(hms, p) {
	split(hms, p, ":")
	return p[1] * 3600 + p[2] * 60 + p[3]
}
/^--------------------+ [0-9]+-[0-9]+-[0-9]+ [0-9:.]+$/ {
	flush()
	t = secs($3)
	if (day0 == "") day0 = $2
	if ($2 != day0) t += 86400 # the run crossed midnight (runs last minutes)
	dir = ""; first = ""; cid = ""; cseq = ""; state = 1
	next
}
state == 1 { dir = ($0 ~ /sent/) ? "S" : "R"; state = 2; next }
state == 2 && NF > 0 { first = $0; sub(/\r$/, "", first); state = 3; next }
state == 3 && tolower($1) == "call-id:" { cid = $2; sub(/\r$/, "", cid); next }
state == 3 && tolower($1) == "cseq:" { cseq = toupper($3); sub(/\r$/, "", cseq); next }
END { flush() }
