#!/usr/bin/env bash
# bench/run.sh — whole-system load benchmark of switchboard with SIPp.
#
# Builds switchboard and bench/cmd/benchapp, starts them on free loopback
# ports (switchboard pinned to core 0, SIPp and the app to core 1), creates
# the number "bench" whose VoiceUrl is the app, warms the TTS and <Play>
# caches with a few calls, runs ONE bounded SIPp load and prints what it
# measured: calls attempted/succeeded/failed, calls/s, INVITE->200 OK p50/p99,
# the server's CPU (% of one core, from /proc/PID/stat utime+stime) and RSS.
# In mode rest the calls go the other way: bench/cmd/restload creates them
# with the REST API and SIPp is the callee (scenarios/uas_answer_bye.xml).
# In modes dial and bridge the app answers <Dial><Sip> to a second SIPp, the
# callee: switchboard places a dialled leg to it and bridges the two legs.
# In mode conference every caller dials a number whose TwiML is
# <Dial><Conference beep="false">roomN</Conference></Dial>: PARTICIPANTS per
# room, all talking; bench/cmd/confpeer is the media of a few probe
# participants per room and measures what they hear.
# Everything it started is killed on exit; the data dir lives in a temp dir.
#
# Usage:
#   bench/run.sh say    RATE [SECONDS]        <Say>(~3 s)+<Hangup/>, RATE calls/s for SECONDS (60)
#   bench/run.sh hangup RATE [SECONDS]        <Hangup/> only (signalling + webhook), likewise
#   bench/run.sh play   CALLS [HOLD [RAMP]]   CALLS concurrent callers sending RTP, each hearing
#                                             <Play loop="0"> of a WAV for HOLD s (60), placed
#                                             at RAMP calls/s (100); CPU measured while all are up
#   bench/run.sh rest   RATE [SECONDS]        RATE calls/s created with POST .../Calls.json for
#                                             SECONDS (60), Url = the app's <Say>(~3 s)+<Hangup/>,
#                                             to a SIPp UAS that answers and sends BYE after 1 s;
#                                             create->answered p50/p99 from the status callbacks
#   bench/run.sh dial   RATE [SECONDS]        <Dial><Sip> to a SIPp UAS that answers and sends BYE
#                                             after 1 s; the caller (uac_wait_bye.xml) gets
#                                             switchboard's BYE; RATE calls/s for SECONDS (60)
#   bench/run.sh bridge CALLS [HOLD [RAMP]]   CALLS concurrent bridged calls (2 legs each) for HOLD
#                                             s (75), placed at RAMP calls/s (100): the caller sends
#                                             marked u-law RTP (rtp_stream), the callee's media is
#                                             bench/cmd/rtppeer (sends RTP back, counts what the
#                                             bridge delivers); CPU and loss while all are up
#   bench/run.sh conference PARTICIPANTS [HOLD [RAMP [ROOMS]]]
#                                             ROOMS rooms (1) of PARTICIPANTS callers (2..250)
#                                             each: PROBES of them (4) first, whose media is
#                                             bench/cmd/confpeer (a coded tone and speech; it
#                                             measures what they hear), then the others (SIPp,
#                                             looped espeak-ng speech, rtp_stream) at RAMP
#                                             calls/s in all (25), held HOLD s (75); CPU, RSS,
#                                             pacer ticks dropped, loss and delay while all are in
#   bench/run.sh queue CALLERS [AGENTS [QUEUES [HOLD [RAMP]]]]
#                                             CALLERS callers spread over QUEUES queues (10), each
#                                             number qN answering <Enqueue>qN</Enqueue> (the
#                                             built-in hold music), placed at RAMP calls/s (100)
#                                             and held HOLD s (90), sending the marked tone;
#                                             CPU measured while all wait; then AGENTS agents
#                                             (100) dial at once, the numbers agentN answering
#                                             <Dial><Queue>qN</Queue></Dial>; their media is
#                                             rtppeer (the callers' audio must come through);
#                                             dequeue-to-bridge latency from switchboard's log
#
# Environment:
#   SB_BIN=path        use this switchboard binary instead of building one
#   SB_ARGS="..."      more switchboard serve flags (e.g. "--rtp-read-interval 40ms")
#   SB_GOMAXPROCS=N    GOMAXPROCS for switchboard (default: the cores it may use)
#   APP_BIN=path       use this benchapp binary instead of building one
#   RTP_PORTS=LO-HI    switchboard --rtp-ports (10000-30000: 2 ports per call)
#   SERVER_CPU=0 LOAD_CPU=1   cores for taskset (SERVER_CPU=0,1: switchboard on two cores,
#                      GOMAXPROCS 2, so two media pacer shards; the CPU is also given
#                      as a share of those cores)
#   NICE=-10           run switchboard and SIPp at this nice level (root only below 0):
#                      precedence over other work on a shared machine
#   PROFILE=1          run bench/cmd/sbprof (the same server with CPU, heap, mutex and
#                      block profiles written to the run directory; prints the top of each);
#                      with SB_BIN, that binary must be an sbprof build
#   DRAIN=5            seconds to wait after the load before the "after" figures (fds, RSS...)
#   KEEP=1             keep the run directory (logs, SIPp csv) even on success
#   SB_GODEBUG=gctrace=1   GODEBUG for switchboard only (gctrace lines go to its log;
#                      conference reports the GC cycles and their pauses in the window)
#   SIPP_EXTRA="..."   more SIPp options (e.g. "-t t1" for TCP)
#   MSGLOG=0           no SIPp message log (then latency comes from SIPp's 4 ms-step rtd only)
#   RESTLOAD_BIN=path  (rest) use this bench/cmd/restload binary instead of building one
#   CPS=1000           (rest) switchboard --cps: the account's calls-per-second limit
#   MAX_INFLIGHT=256   (rest) create requests outstanding at most (restload -max-inflight)
#   EVENTS=initiated,ringing,answered,completed   (rest) StatusCallbackEvent values asked for
#   RTPPEER_BIN=path   (bridge) use this bench/cmd/rtppeer binary instead of building one
#   CONFPEER_BIN=path  (conference) use this bench/cmd/confpeer binary instead of building one
#   PROBES=4           (conference) probe participants per room: 1 talker (coded tone) + listeners
#   TALK_DB=-42        (conference) RMS level of the speech every other participant sends (dB
#                      of full scale; 249 of them sum to about -14 dBFS: no clipping in the mix)
#   SERVER_CPU         (conference) 0 for one room, 0,1 (two cores) for ROOMS >= 2, with
#                      LOAD_CPU 2 when the machine has one (else 1: shared, with a warning)
set -Eeuo pipefail

die() { echo "run.sh: $*" >&2; exit 2; }
usage() { sed -n '/^# Usage:/,/^# Environment:/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ $# -ge 2 ]] || usage
ARGS="$*"
MODE=$1
case $MODE in
say | hangup | rest | dial)
	RATE=$2
	SECONDS_RUN=${3:-60}
	[[ $RATE =~ ^[0-9]+$ && $RATE -ge 1 && $RATE -le 5000 ]] || die "RATE must be 1..5000"
	[[ $SECONDS_RUN =~ ^[0-9]+$ && $SECONDS_RUN -ge 1 && $SECONDS_RUN -le 600 ]] || die "SECONDS must be 1..600"
	;;
play | bridge)
	CALLS=$2
	HOLD=${3:-60}
	[[ $MODE == bridge ]] && HOLD=${3:-75}
	RAMP=${4:-100}
	[[ $CALLS =~ ^[0-9]+$ && $CALLS -ge 1 && $CALLS -le 9000 ]] || die "CALLS must be 1..9000"
	[[ $HOLD =~ ^[0-9]+$ && $RAMP =~ ^[0-9]+$ && $RAMP -ge 1 ]] || die "HOLD and RAMP must be numbers"
	RAMP_S=$(((CALLS + RAMP - 1) / RAMP))
	# The measuring window: from 3 s after the last call was placed to 3 s
	# before the first one hangs up; at least 10 s of it.
	WINDOW=$((HOLD - RAMP_S - 6))
	[[ $WINDOW -ge 10 ]] || die "HOLD ($HOLD s) must exceed the ramp ($RAMP_S s) by 16 s or more"
	[[ $HOLD -le 600 ]] || die "HOLD must be <= 600 s"
	;;
queue)
	CALLS=$2
	AGENTS=${3:-100}
	QUEUES=${4:-10}
	HOLD=${5:-90}
	RAMP=${6:-100}
	[[ $QUEUES =~ ^[0-9]+$ && $QUEUES -ge 1 && $QUEUES -le 100 ]] || die "QUEUES must be 1..100"
	[[ $CALLS =~ ^[0-9]+$ && $CALLS -ge 1 && $CALLS -le 9000 && $((CALLS % QUEUES)) == 0 ]] ||
		die "CALLERS must be 1..9000, a multiple of QUEUES"
	[[ $AGENTS =~ ^[0-9]+$ && $AGENTS -ge 1 && $((AGENTS % QUEUES)) == 0 && $AGENTS -le $CALLS ]] ||
		die "AGENTS must be a multiple of QUEUES, at most CALLERS (an agent finds a caller waiting)"
	[[ $HOLD =~ ^[0-9]+$ && $RAMP =~ ^[0-9]+$ && $RAMP -ge 1 ]] || die "HOLD and RAMP must be numbers"
	RAMP_S=$(((CALLS + RAMP - 1) / RAMP))
	WINDOW=20       # s: the CPU of everyone waiting with music
	AGENT_HOLD=10   # s: each agent's call, bridged
	[[ $HOLD -ge $((RAMP_S + WINDOW + AGENT_HOLD + 20)) && $HOLD -le 600 ]] ||
		die "HOLD ($HOLD s) must cover the ramp ($RAMP_S s), the window ($WINDOW s), the agents ($AGENT_HOLD s) and 20 s; at most 600"
	;;
conference)
	PARTICIPANTS=$2
	HOLD=${3:-75}
	RAMP=${4:-25}
	ROOMS=${5:-1}
	PROBES=${PROBES:-4}
	[[ $PARTICIPANTS =~ ^[0-9]+$ && $PARTICIPANTS -ge 2 && $PARTICIPANTS -le 250 ]] ||
		die "PARTICIPANTS must be 2..250 (a room holds 250: conference.MaxParticipants)"
	[[ $ROOMS =~ ^[0-9]+$ && $ROOMS -ge 1 && $ROOMS -le 16 ]] || die "ROOMS must be 1..16"
	[[ $PROBES =~ ^[0-9]+$ && $PROBES -ge 2 && $PROBES -lt $PARTICIPANTS ]] ||
		die "PROBES must be 2..PARTICIPANTS-1 (a talker and a listener; SIPp places the others)"
	[[ $HOLD =~ ^[0-9]+$ && $RAMP =~ ^[0-9]+$ && $RAMP -ge 1 ]] || die "HOLD and RAMP must be numbers"
	TALKERS=$((PARTICIPANTS - PROBES))
	CALLS=$((PARTICIPANTS * ROOMS))
	# The talkers of every room are placed together, RAMP calls/s in all.
	RAMP_S=$(((TALKERS * ROOMS + RAMP - 1) / RAMP))
	WINDOW=$((HOLD - RAMP_S - 6))
	[[ $WINDOW -ge 10 ]] || die "HOLD ($HOLD s) must exceed the ramp ($RAMP_S s) by 16 s or more"
	[[ $HOLD -le 600 ]] || die "HOLD must be <= 600 s"
	# The probes join first and leave last.
	PROBE_HOLD=$((HOLD + RAMP_S + 8))
	;;
*) usage ;;
esac

for tool in sipp sox curl taskset python3 go; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
# Without it every <Say> fails at once and switchboard hangs up first.
[[ $MODE == say || $MODE == rest ]] && { command -v espeak-ng >/dev/null || die "espeak-ng is not installed (<Say>)"; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $MODE == conference && ${ROOMS:-1} -ge 2 ]]; then
	# Two cores (GOMAXPROCS follows the affinity: 2); the load on a third if
	# there is one, else it shares core 1 with switchboard (a warning says so).
	SERVER_CPU=${SERVER_CPU:-0,1}
	(($(nproc) >= 3)) && LOAD_CPU=${LOAD_CPU:-2}
else
	SERVER_CPU=${SERVER_CPU:-0}
fi
[[ $SERVER_CPU =~ ^[0-9]+(,[0-9]+)*$ ]] || die "SERVER_CPU must be a core or a comma-separated list of cores"
[[ $MODE == conference ]] && { command -v espeak-ng >/dev/null || die "espeak-ng is not installed (the participants' speech)"; }
# NICE=-10 gives switchboard and SIPp precedence over other work on a shared
# machine (closer to the dedicated cores the figures assume); 0 by default.
NICE=${NICE:-0}
[[ $NICE =~ ^-?[0-9]+$ ]] || die "NICE must be a number"
LOAD_CPU=${LOAD_CPU:-1}
RTP_PORTS=${RTP_PORTS:-10000-30000}
for c in ${SERVER_CPU//,/ }; do
	[[ ,$LOAD_CPU, == *,$c,* ]] && echo "run.sh: WARNING: switchboard (cores $SERVER_CPU) shares core $c with SIPp and the probes (LOAD_CPU $LOAD_CPU): its pacer competes with them for that core" >&2
done
CLK_TCK=$(getconf CLK_TCK)

# SIPp's message log gives microsecond INVITE->200 timings (MSGLOG=0: off);
# in rest mode the latency comes from restload and SIPp logs no messages.
MSGLOG_OPT=-trace_msg
[[ ${MSGLOG:-1} == 0 || $MODE == rest ]] && MSGLOG_OPT=
RUN=$(mktemp -d "${TMPDIR:-/tmp}/sbbench.XXXXXX")
mkdir -p "$RUN/data"
PIDS=()
FAILED=0

# sipp_pids DIR: the SIPp processes this script started in DIR (by their
# working directory), so only our own are ever signalled.
sipp_pids() {
	local p
	for p in $(pgrep -x sipp); do
		[[ $(readlink "/proc/$p/cwd" 2>/dev/null) == "$1"* ]] && echo "$p"
	done
	return 0
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local rc=$?
	set +e
	for pid in $(sipp_pids "$RUN"); do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$RUN/data"
	if [[ ${KEEP:-0} == 1 || $FAILED != 0 || $rc != 0 ]]; then
		echo "logs kept in $RUN"
	else
		rm -rf "$RUN"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a port free for both UDP and TCP on 127.0.0.1 right now.
free_port() {
	python3 - <<'EOF'
import socket
for _ in range(100):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    u.close(); t.close()
    print(port)
    break
else:
    raise SystemExit("no free port")
EOF
}

hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# cpu_ticks PID: utime+stime of the process so far, in clock ticks (proc(5)),
# with its children's, live (switchboard's checkpoint helper) or waited for.
cpu_ticks() {
	local t
	t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat") || return 1
	echo $((t + $(children_sum "$1" stat '{ sub(/^.*\) /, ""); print $12 + $13 }')))
}
# children_sum PID FILE PROGRAM: the number the awk PROGRAM prints for each
# live child's /proc/CHILD/FILE, summed (0 for a child gone meanwhile).
children_sum() {
	local s=0 c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		s=$((s + $(awk "$3" "/proc/$c/$2" 2>/dev/null || echo 0)))
	done
	echo "$s"
}
# wchar PID: bytes the process has written by system calls so far (proc(5)
# /proc/PID/io): with few calls logged, mostly the SQLite WAL and checkpoints.
wchar() { awk '$1 == "wchar:" { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0; }
# rss_kb PID: the process's resident set, in KB, with the memory its children
# (switchboard's checkpoint helper) add: their private pages (the executable's
# pages they share with it are in its own RSS already).
rss_kb() {
	local k
	k=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status") || return 1
	echo $((k + $(children_sum "$1" smaps_rollup '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }')))
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }
now_ms() { date +%s%3N; }
# sock_drops PID: how many UDP sockets the process holds and the datagrams
# the kernel dropped on them so far (receive buffer full; /proc/net/udp).
sock_drops() {
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -lname 'socket:*' -printf '%l\n' 2>/dev/null |
		sed 's/^socket:\[\(.*\)\]$/\1/' |
		awk 'NR == FNR { want[$1] = 1; next } FNR > 1 && ($10 in want) { n++; d += $NF } END { print n + 0, d + 0 }' - /proc/net/udp
}
# core_busy N[,M...]: busy and steal ticks of those CPUs so far (proc(5) /proc/stat).
core_busy() {
	awk -v l="$1" 'BEGIN { n = split(l, a, ","); for (i = 1; i <= n; i++) want["cpu" a[i]] = 1 }
		$1 in want { b += $2 + $3 + $4 + $7 + $8 + $9; s += $9 } END { print b + 0, s + 0 }' /proc/stat
}
# thread_ticks PID: "tid utime+stime" of every thread of the process.
thread_ticks() {
	local t
	for t in /proc/"$1"/task/*/stat; do
		awk -v f="$t" '{ sub(/^.*\) /, ""); n = split(f, p, "/"); print p[n - 1], $12 + $13 }' "$t" 2>/dev/null || true
	done
}

echo "== switchboard bench: $ARGS ($(date -u +%FT%TZ))"
echo "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# --- build ---------------------------------------------------------------
if [[ ${PROFILE:-0} == 1 ]]; then
	if [[ -n ${SB_BIN:-} ]]; then
		cp "$SB_BIN" "$RUN/switchboard" # must be an sbprof build
	else
		(cd "$ROOT" && go build -o "$RUN/switchboard" ./bench/cmd/sbprof) || die "building sbprof failed"
	fi
	export SBPROF_CPU=$RUN/cpu.pprof SBPROF_HEAP=$RUN/heap.pprof SBPROF_MUTEX=$RUN/mutex.pprof SBPROF_BLOCK=$RUN/block.pprof
	SBPROF_HTTP=127.0.0.1:$(free_port)
	export SBPROF_HTTP
elif [[ -n ${SB_BIN:-} ]]; then
	cp "$SB_BIN" "$RUN/switchboard"
else
	(cd "$ROOT" && go build -o "$RUN/switchboard" ./cmd/switchboard) || die "building switchboard failed"
fi
if [[ -n ${APP_BIN:-} ]]; then
	cp "$APP_BIN" "$RUN/benchapp"
else
	(cd "$ROOT" && go build -o "$RUN/benchapp" ./bench/cmd/benchapp) || die "building benchapp failed"
fi
if [[ $MODE == rest ]]; then
	if [[ -n ${RESTLOAD_BIN:-} ]]; then
		cp "$RESTLOAD_BIN" "$RUN/restload"
	else
		(cd "$ROOT" && go build -o "$RUN/restload" ./bench/cmd/restload) || die "building restload failed"
	fi
fi
if [[ $MODE == bridge || $MODE == queue ]]; then
	if [[ -n ${RTPPEER_BIN:-} ]]; then
		cp "$RTPPEER_BIN" "$RUN/rtppeer"
	else
		(cd "$ROOT" && go build -o "$RUN/rtppeer" ./bench/cmd/rtppeer) || die "building rtppeer failed"
	fi
fi
if [[ $MODE == conference ]]; then
	if [[ -n ${CONFPEER_BIN:-} ]]; then
		cp "$CONFPEER_BIN" "$RUN/confpeer"
	else
		(cd "$ROOT" && go build -o "$RUN/confpeer" ./bench/cmd/confpeer) || die "building confpeer failed"
	fi
fi

# --- the webhook app -------------------------------------------------------
APP_EXTRA=()
case $MODE in
say | rest) APP_MODE=say ;;
hangup) APP_MODE=hangup ;;
play) APP_MODE=play ;;
conference | queue) APP_MODE=hangup ;; # the rooms' and queues' numbers use /conference/roomN, /enqueue/qN, /agent/qN
dial | bridge)
	APP_MODE=dial
	# The callee's SIP port, fixed now: the app's TwiML names it. The warm-up
	# callee and the measured one take it in turn.
	UAS_PORT=$(free_port)
	APP_EXTRA=(-dial "sip:uas@127.0.0.1:$UAS_PORT")
	;;
esac
taskset -c "$LOAD_CPU" "$RUN/benchapp" -mode "$APP_MODE" "${APP_EXTRA[@]}" -addr 127.0.0.1:0 -addr-file "$RUN/app.addr" \
	>"$RUN/benchapp.log" 2>&1 &
APP_PID=$!
PIDS+=("$APP_PID")
for _ in $(seq 100); do [[ -s $RUN/app.addr ]] && break; sleep 0.1; done
[[ -s $RUN/app.addr ]] || die "benchapp did not start: $(cat "$RUN/benchapp.log")"
APP_ADDR=$(cat "$RUN/app.addr")

# --- switchboard -----------------------------------------------------------
HTTP_PORT=$(free_port)
SIP_PORT=$(free_port)
SID=AC$(hex 16)
TOKEN=$(hex 16)
SB_EXTRA=()
if [[ $MODE == rest ]]; then
	CPS=${CPS:-1000}
	SB_EXTRA=(--cps "$CPS")
fi
# shellcheck disable=SC2206 # SB_ARGS is split into flags on purpose
[[ -n ${SB_ARGS:-} ]] && SB_EXTRA+=($SB_ARGS)
SB_ENV=()
[[ -n ${SB_GOMAXPROCS:-} ]] && SB_ENV=("GOMAXPROCS=$SB_GOMAXPROCS")
SWITCHBOARD_ACCOUNT_SID=$SID SWITCHBOARD_AUTH_TOKEN=$TOKEN GODEBUG=${SB_GODEBUG:-} \
	env "${SB_ENV[@]}" nice -n "$NICE" taskset -c "$SERVER_CPU" "$RUN/switchboard" serve \
	--http "127.0.0.1:$HTTP_PORT" --sip "127.0.0.1:$SIP_PORT" \
	--rtp-ports "$RTP_PORTS" --data "$RUN/data" "${SB_EXTRA[@]}" \
	>"$RUN/switchboard.log" 2>&1 &
SB_PID=$!
PIDS+=("$SB_PID")
ready=0
for _ in $(seq 300); do
	kill -0 "$SB_PID" 2>/dev/null || break
	if curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$HTTP_PORT/healthz" 2>/dev/null; then ready=1; break; fi
	sleep 0.1
done
[[ $ready == 1 ]] || { FAILED=1; die "switchboard not ready in 30 s: $(tail -5 "$RUN/switchboard.log")"; }

code=$(curl -sS -o "$RUN/number.json" -w '%{http_code}' --max-time 10 -u "$SID:$TOKEN" \
	"http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json" \
	--data-urlencode PhoneNumber=bench --data-urlencode "VoiceUrl=http://$APP_ADDR/voice")
[[ $code == 201 || $code == 200 ]] || { FAILED=1; die "creating the number: HTTP $code $(cat "$RUN/number.json")"; }
if [[ $MODE == conference ]]; then
	# The number roomN puts its callers in room roomN.
	for r in $(seq "$ROOMS"); do
		code=$(curl -sS -o "$RUN/number_room$r.json" -w '%{http_code}' --max-time 10 -u "$SID:$TOKEN" \
			"http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json" \
			--data-urlencode "PhoneNumber=room$r" --data-urlencode "VoiceUrl=http://$APP_ADDR/conference/room$r")
		[[ $code == 201 || $code == 200 ]] || { FAILED=1; die "creating the number room$r: HTTP $code $(cat "$RUN/number_room$r.json")"; }
	done
fi
if [[ $MODE == queue ]]; then
	# The number qN puts its callers in queue qN; agentN takes them out.
	for q in $(seq "$QUEUES"); do
		for n in "q$q=/enqueue/q$q" "agent$q=/agent/q$q"; do
			code=$(curl -sS -o "$RUN/number_${n%%=*}.json" -w '%{http_code}' --max-time 10 -u "$SID:$TOKEN" \
				"http://127.0.0.1:$HTTP_PORT/2010-04-01/Accounts/$SID/IncomingPhoneNumbers.json" \
				--data-urlencode "PhoneNumber=${n%%=*}" --data-urlencode "VoiceUrl=http://$APP_ADDR${n#*=}")
			[[ $code == 201 || $code == 200 ]] || { FAILED=1; die "creating the number ${n%%=*}: HTTP $code $(cat "$RUN/number_${n%%=*}.json")"; }
		done
	done
fi
echo "switchboard pid $SB_PID on core $SERVER_CPU (nice $NICE): http 127.0.0.1:$HTTP_PORT, sip 127.0.0.1:$SIP_PORT, rtp $RTP_PORTS${SB_EXTRA[*]:+, ${SB_EXTRA[*]}}; app $APP_ADDR ($APP_MODE${APP_EXTRA[*]:+ ${APP_EXTRA[*]}})"

# --- the participants' speech and the probes' media (conference) ---------------
if [[ $MODE == conference ]]; then
	# espeak-ng speech (≈18 s with the pauses over 0.15 s cut), low-passed at
	# 1,800 Hz (the probe talker's tones are at 2,200-3,800 Hz), at TALK_DB dB
	# RMS, over a pink-noise floor peaking 18 dB under that (a phone's
	# background: no frame is digital silence, so every participant is summed
	# in every tick: everyone talks all the time), u-law,
	# whole 20 ms frames. SIPp loops it (rtp_stream); confpeer's listeners too.
	TALK_DB=${TALK_DB:--42}
	[[ $TALK_DB =~ ^-[0-9]+$ ]] || die "TALK_DB must be a negative whole number of dB"
	espeak-ng -v en-us -s 165 --stdout "Good morning everyone, thanks for joining the weekly planning call. \
Before we start, could everybody check that their microphone works? We have three items on the agenda today: \
the release schedule, the support rotation, and the budget for next quarter. Let me share the numbers from \
last week first, and then we can go around the room for updates." >"$RUN/speech_raw.wav" 2>/dev/null ||
		die "espeak-ng failed"
	sox "$RUN/speech_raw.wav" -r 8000 -c 1 -b 16 "$RUN/speech_8k.wav" sinc -1800 silence -l 1 0.1 1% -1 0.15 1%
	rms=$(sox "$RUN/speech_8k.wav" -n stat 2>&1 | awk '/^RMS +amplitude/ { print $3 }')
	gain=$(awk -v r="$rms" -v t="$TALK_DB" 'BEGIN { printf "%.2f", t - 20 * log(r) / log(10) }')
	sox -n -r 8000 -c 1 -b 16 "$RUN/noise.wav" synth "$(soxi -D "$RUN/speech_8k.wav")" pinknoise sinc -1800 gain -n $((TALK_DB - 18))
	sox "$RUN/speech_8k.wav" "$RUN/speech_lvl.wav" gain "$gain"
	sox -m -v 1 "$RUN/speech_lvl.wav" -v 1 "$RUN/noise.wav" -t ul "$RUN/speech.ulaw"
	head -c $(($(stat -c %s "$RUN/speech.ulaw") / 160 * 160)) "$RUN/speech.ulaw" >"$RUN/bench.ulaw"
	echo "speech: $(($(stat -c %s "$RUN/bench.ulaw") / 8000)) s of espeak-ng at $TALK_DB dB RMS (gain $gain dB), low-passed at 1,800 Hz, looped"
	nice -n "$NICE" taskset -c "$LOAD_CPU" "$RUN/confpeer" -rooms "$ROOMS" -addr-file "$RUN/confpeer.ports" \
		-speech "$RUN/bench.ulaw" -timeout "$((PROBE_HOLD + RAMP_S + 300))s" -timeline "$RUN/confpeer_timeline.txt" \
		>"$RUN/confpeer.log" 2>&1 &
	PEER_PID=$!
	PIDS+=("$PEER_PID")
	for _ in $(seq 100); do [[ $(wc -l 2>/dev/null <"$RUN/confpeer.ports" || echo 0) -ge $ROOMS ]] && break; sleep 0.1; done
	[[ $(wc -l 2>/dev/null <"$RUN/confpeer.ports" || echo 0) -ge $ROOMS ]] || die "confpeer did not start: $(cat "$RUN/confpeer.log")"
	mapfile -t ROOM_PORT <"$RUN/confpeer.ports"
	echo "probe media: confpeer pid $PEER_PID on core $LOAD_CPU, 127.0.0.1 ports ${ROOM_PORT[*]} (room 1 first); $PROBES probes a room: 1 talker, $((PROBES - 1)) listeners"
fi
# peer_lines LOG K: the media peer's K "STATS ..." lines now: it prints them
# to LOG on SIGUSR1.
peer_lines() {
	local n
	n=$(grep -c '^STATS ' "$1" || true)
	kill -USR1 "$PEER_PID" 2>/dev/null || return 0
	for _ in $(seq 50); do
		(($(grep -c '^STATS ' "$1" || true) >= n + $2)) && break
		sleep 0.05
	done
	grep '^STATS ' "$1" | tail -"$2"
}
# conf_stats: confpeer's per-room "STATS ..." lines now.
conf_stats() { peer_lines "$RUN/confpeer.log" "$ROOMS"; }
# conf_active: the probe legs sending RTP to confpeer now, in all rooms.
conf_active() { conf_stats | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^active=/) n += substr($i, 8) } END { print n + 0 }'; }
# conf_mark N: at the start (N=1) or the end (N=2) of the conference window,
# the time and the line count of switchboard's log into w(N-1) and
# wlog(N-1); the CPU ticks of switchboard, confpeer and the SIPp talkers into
# cN, pwN and spN; the cores' busy ticks into kN stN and lN; the socket drops
# into socksN dropsN and pdropsN; switchboard's threads into threadsN.txt.
conf_mark() {
	local n=$1 v p sp=0
	v=$(now_ms)
	printf -v "w$((n - 1))" %s "$v"
	v=$(cpu_ticks "$SB_PID")
	printf -v "c$n" %s "$v"
	read -r "k$n" "st$n" < <(core_busy "$SERVER_CPU")
	read -r "l$n" _ < <(core_busy "$LOAD_CPU")
	read -r "socks$n" "drops$n" < <(sock_drops "$SB_PID")
	read -r _ "pdrops$n" < <(sock_drops "$PEER_PID")
	v=$(cpu_ticks "$PEER_PID")
	printf -v "pw$n" %s "$v"
	thread_ticks "$SB_PID" >"$RUN/threads$n.txt"
	v=$(wc -l <"$RUN/switchboard.log")
	printf -v "wlog$((n - 1))" %s "$v"
	for p in $(sipp_pids "$RUN/load"); do sp=$((sp + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done
	printf -v "sp$n" %s "$sp"
}

# --- the callee's media (bridge), the agents' (queue) -------------------------
if [[ $MODE == bridge || $MODE == queue ]]; then
	# The caller plays the marked tone rtppeer recognises (5 s, looped).
	"$RUN/rtppeer" -write "$RUN/bench.ulaw" -frames 250 || die "rtppeer -write failed"
	nice -n "$NICE" taskset -c "$LOAD_CPU" "$RUN/rtppeer" -addr 127.0.0.1:0 -addr-file "$RUN/rtppeer.port" \
		-frames 250 -timeout "$((HOLD + RAMP_S + 300))s" -timeline "$RUN/rtppeer_timeline.txt" >"$RUN/rtppeer.log" 2>&1 &
	PEER_PID=$!
	PIDS+=("$PEER_PID")
	for _ in $(seq 100); do [[ -s $RUN/rtppeer.port ]] && break; sleep 0.1; done
	[[ -s $RUN/rtppeer.port ]] || die "rtppeer did not start: $(cat "$RUN/rtppeer.log")"
	PEER_PORT=$(cat "$RUN/rtppeer.port")
	echo "callee media: rtppeer pid $PEER_PID on core $LOAD_CPU, 127.0.0.1:$PEER_PORT"
fi
# peer_stats: rtppeer's counters now (its "STATS ..." line).
peer_stats() { peer_lines "$RUN/rtppeer.log" 1; }
# kv LINE KEY: the value of KEY=value in LINE (0 when absent).
kv() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2) } END { print v + 0 }' <<<"$1"; }

# --- SIPp ------------------------------------------------------------------
[[ -s $RUN/bench.ulaw ]] || sox -n -r 8000 -c 1 -t ul "$RUN/bench.ulaw" synth 5 sine 350 vol 0.5
# SCENARIO: what sipp_run plays (the caller's, or rest's callee's);
# UAS_SCENARIO: the callee of dial and bridge; PROBE_SCENARIO: conference's probes.
case $MODE in
conference)
	SCENARIO=$ROOT/bench/scenarios/uac_hold.xml
	PROBE_SCENARIO=$ROOT/bench/scenarios/uac_conf_probe.xml
	;;
say | hangup) SCENARIO=$ROOT/bench/scenarios/uac_wait_bye.xml ;;
play) SCENARIO=$ROOT/bench/scenarios/uac_hold.xml ;;
rest) SCENARIO=$ROOT/bench/scenarios/uas_answer_bye.xml ;;
dial)
	SCENARIO=$ROOT/bench/scenarios/uac_wait_bye.xml
	UAS_SCENARIO=$ROOT/bench/scenarios/uas_answer_bye.xml
	;;
bridge)
	SCENARIO=$ROOT/bench/scenarios/uac_hold.xml
	UAS_SCENARIO=$ROOT/bench/scenarios/uas_answer_hold.xml
	;;
queue)
	SCENARIO=$ROOT/bench/scenarios/uac_hold.xml
	AGENT_SCENARIO=$ROOT/bench/scenarios/uac_conf_probe.xml # its media: rtppeer
	;;
esac

# sipp_run NAME TIMEOUT_S ARGS...: one bounded SIPp run in $RUN/NAME (its
# working dir, where the scenario finds bench.ulaw), on the load core; its
# SIP port is $SIPP_PORT when set (the UAS of mode rest), else a free one; it
# calls the number $SERVICE (bench).
sipp_run() {
	local name=$1 limit=$2
	shift 2
	mkdir -p "$RUN/$name"
	ln -sf "$RUN/bench.ulaw" "$RUN/$name/bench.ulaw"
	local sp mp
	sp=${SIPP_PORT:-$(free_port)}
	mp=$(free_port)
	# shellcheck disable=SC2086
	(cd "$RUN/$name" && exec timeout -k 5 "$((limit + 30))" nice -n "$NICE" taskset -c "$LOAD_CPU" sipp "127.0.0.1:$SIP_PORT" \
		-sf "$SCENARIO" -s "${SERVICE:-bench}" -i 127.0.0.1 -p "$sp" -mi 127.0.0.1 -mp "$mp" \
		-timeout "${limit}s" -timeout_error -nostdin -timer_resol 1 -max_recv_loops 10000 -max_sched_loops 10000 \
		-trace_stat -stf stat.csv -fd 1 -trace_rtt -rtt_freq 1 -trace_err -trace_screen $MSGLOG_OPT \
		${SIPP_EXTRA:-} "$@" >sipp.out 2>&1)
}

# stat_col DIR NAME: the named column of SIPp's last statistics line.
stat_col() {
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ last = $c } END { print last + 0 }' "$1/stat.csv"
}

# udp_bound PORT: whether something listens on UDP 127.0.0.1:PORT (/proc/net/udp).
udp_bound() { awk -v p="$(printf '%04X' "$1")" 'NR > 1 && $2 == "0100007F:" p { f = 1 } END { exit !f }' /proc/net/udp; }
# sipp_uas NAME TIMEOUT_S ARGS...: sipp_run in the background as the callee of
# mode rest, on port $SIPP_PORT ($UAS_PORT when set: dial, bridge); returns
# once it listens (pid in $UAS_PID).
sipp_uas() {
	SIPP_PORT=${UAS_PORT:-$(free_port)}
	sipp_run "$@" &
	UAS_PID=$!
	for _ in $(seq 100); do udp_bound "$SIPP_PORT" && return 0; kill -0 "$UAS_PID" 2>/dev/null || break; sleep 0.1; done
	FAILED=1
	die "SIPp UAS did not start: $(tail -5 "$RUN/$1/sipp.out" 2>/dev/null)"
}
# sipp_stop NAME PID GRACE_S: wait up to GRACE_S for that SIPp run to end by
# itself (it stops after its -m calls), then TERM it; its exit status.
sipp_stop() {
	local pid
	for _ in $(seq $(($3 * 10))); do kill -0 "$2" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$2" 2>/dev/null; then
		echo "SIPp $1 still running ${3} s after the last call was due: stopping it"
		for pid in $(sipp_pids "$RUN/$1"); do kill -TERM "$pid" 2>/dev/null; done
	fi
	wait "$2"
}
# restload_run NAME RATE SECONDS [ARGS...]: create calls with the REST API
# to the SIPp UAS on $SIPP_PORT, on the load core; report in $RUN/NAME.
restload_run() {
	local name=$1 rate=$2 secs=$3
	shift 3
	mkdir -p "$RUN/$name"
	SWITCHBOARD_ACCOUNT_SID=$SID SWITCHBOARD_AUTH_TOKEN=$TOKEN \
		timeout -k 5 "$((secs + 120))" nice -n "$NICE" taskset -c "$LOAD_CPU" "$RUN/restload" \
		-api "http://127.0.0.1:$HTTP_PORT" -to "sip:uas@127.0.0.1:$SIPP_PORT" -from bench \
		-url "http://$APP_ADDR/voice" -rate "$rate" -seconds "$secs" -label "$name" \
		-max-inflight "${MAX_INFLIGHT:-256}" -events "${EVENTS:-initiated,ringing,answered,completed}" \
		-wait 30s -calls-file "$RUN/$name/calls.tsv" "$@" >"$RUN/$name/restload.out" 2>&1
}

# callee_run NAME TIMEOUT_S ARGS...: the callee of dial and bridge (sipp_uas
# with UAS_SCENARIO, on UAS_PORT, without a message log); caller_run NAME
# TIMEOUT_S ARGS...: their caller (sipp_run on a free port).
callee_run() {
	local extra=()
	[[ $MODE == bridge ]] && extra=(-key rtpport "$PEER_PORT")
	SCENARIO=$UAS_SCENARIO MSGLOG_OPT='' sipp_uas "$@" "${extra[@]}"
}
caller_run() { SIPP_PORT='' sipp_run "$@"; }

echo "warm-up: 3 calls (TTS and <Play> caches, connections)"
if [[ $MODE == conference ]]; then
	# Three callers in room1 for 3 s: a room created, started and ended.
	SERVICE=room1 sipp_run warmup 40 -m 3 -r 3 -l 3 -d 3000 || true
elif [[ $MODE == play ]]; then
	sipp_run warmup 40 -m 3 -r 3 -l 3 -d 3000 || true
elif [[ $MODE == queue ]]; then
	# Three callers wait in q1 for 3 s.
	SERVICE=q1 sipp_run warmup 40 -m 3 -r 3 -l 3 -d 3000 || true
elif [[ $MODE == dial || $MODE == bridge ]]; then
	callee_run uas_warmup 60 -m 3
	if [[ $MODE == bridge ]]; then
		caller_run warmup 40 -m 3 -r 3 -l 3 -d 3000 || true
	else
		caller_run warmup 40 -m 3 -r 3 -l 3 || true
	fi
	sipp_stop uas_warmup "$UAS_PID" 10 || true
elif [[ $MODE == rest ]]; then
	sipp_uas warmup 40 -m 3
	restload_run warmup 3 1 || tail -12 "$RUN/warmup/restload.out" >&2
	sipp_stop warmup "$UAS_PID" 10 || true
else
	sipp_run warmup 40 -m 3 -r 3 -l 3 || true
fi
warm_ok=$(stat_col "$RUN/warmup" 'SuccessfulCall(C)' 2>/dev/null || echo 0)
if [[ $warm_ok != 3 ]]; then
	FAILED=1
	tail -20 "$RUN/warmup/sipp.out" >&2 || true
	die "warm-up calls failed ($warm_ok of 3 succeeded)"
fi
sleep 1
base_fds=$(fds "$SB_PID")
base_threads=$(threads "$SB_PID")
base_rss=$(rss_kb "$SB_PID")
# goroutines N: the server's goroutine count (PROFILE=1 only).
goroutines() {
	[[ -n ${SBPROF_HTTP:-} ]] || return 0
	curl -fsS --max-time 10 "http://$SBPROF_HTTP/debug/pprof/goroutine?debug=1" 2>/dev/null | awk 'NR == 1 { print $NF }'
}
base_gr=$(goroutines)

# --- the measured run --------------------------------------------------------
t0=$(now_ms)
c0=$(cpu_ticks "$SB_PID")
wc0=$(wchar "$SB_PID")
read -r k0 st0 < <(core_busy "$SERVER_CPU")
a0=$(cpu_ticks "$APP_PID")
if [[ $MODE == conference ]]; then
	log0=$(wc -l <"$RUN/switchboard.log")
	# The probes of every room first (they join within a second and leave
	# last), then the talkers of every room at once: RAMP calls/s in all.
	PROBE_PIDS=()
	for r in $(seq "$ROOMS"); do
		SERVICE=room$r SCENARIO=$PROBE_SCENARIO sipp_run "probe$r" $((PROBE_HOLD + 60)) \
			-key rtpport "${ROOM_PORT[r - 1]}" -m "$PROBES" -r "$PROBES" -l "$PROBES" -d "$((PROBE_HOLD * 1000))" &
		PROBE_PIDS+=($!)
	done
	for _ in $(seq 100); do
		((ROOMS * PROBES == $(conf_active))) && break
		sleep 0.1
	done
	echo "probes in: $(conf_active) of $((ROOMS * PROBES)) probe legs send RTP to confpeer"
	TALKER_PIDS=()
	for r in $(seq "$ROOMS"); do
		name=load$r
		[[ $r == 1 ]] && name=load
		if ((TALKERS > 0)); then
			# RAMP/ROOMS calls/s each: RAMP calls per ROOMS seconds.
			SERVICE=room$r sipp_run "$name" $((HOLD + RAMP_S + 60)) -m "$TALKERS" -r "$RAMP" -rp "$((1000 * ROOMS))" \
				-l "$TALKERS" -d "$((HOLD * 1000))" &
			TALKER_PIDS+=($!)
		fi
	done
	sleep $((RAMP_S + 3))
	conf_mark 1
	kill -USR2 "$PEER_PID"
	# Every second of the window: switchboard's CPU over that second. The
	# window ends on time (WINDOW s after it began), however long sampling takes.
	pt=$w0
	pc_=$c1
	: >"$RUN/cpu_1s.txt"
	wend=$((w0 + WINDOW * 1000))
	while (($(now_ms) < wend - 50)); do
		sleep "$(awk -v r="$((wend - $(now_ms)))" 'BEGIN { printf "%.3f", (r >= 1000 ? 1 : r / 1000) }')"
		nt=$(now_ms)
		nc=$(cpu_ticks "$SB_PID" 2>/dev/null || echo "$pc_")
		echo "$((nt - w0)) $(awk -v t="$((nc - pc_))" -v hz="$CLK_TCK" -v ms="$((nt - pt))" 'BEGIN { printf "%.1f", 100 * t / hz / (ms / 1000) }')" >>"$RUN/cpu_1s.txt"
		pt=$nt
		pc_=$nc
	done
	conf_mark 2
	conf_win=$(conf_stats)
	peak_fds=$(fds "$SB_PID")
	peak_threads=$(threads "$SB_PID")
	win_rss=$(rss_kb "$SB_PID")
	set +e
	sipp_rc=0
	for p in "${TALKER_PIDS[@]}" "${PROBE_PIDS[@]}"; do
		wait "$p"
		rc=$?
		((rc > sipp_rc)) && sipp_rc=$rc
	done
	set -e
	kill -TERM "$PEER_PID" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$PEER_PID" 2>/dev/null || break; sleep 0.1; done
elif [[ $MODE == queue ]]; then
	# The callers of every queue at once, RAMP calls/s in all.
	PER=$((CALLS / QUEUES))
	PER_AGENTS=$((AGENTS / QUEUES))
	CALLER_PIDS=()
	for q in $(seq "$QUEUES"); do
		name=load$q
		[[ $q == 1 ]] && name=load
		SERVICE=q$q sipp_run "$name" $((HOLD + RAMP_S + 60)) -m "$PER" -r "$RAMP" -rp "$((1000 * QUEUES))" \
			-l "$PER" -d "$((HOLD * 1000))" &
		CALLER_PIDS+=($!)
	done
	# The window starts once every caller waits (an RTP and an RTCP socket
	# each), or RAMP_S + 20 s after the first call at most.
	for _ in $(seq $(((RAMP_S + 20) * 5))); do
		read -r socks _ < <(sock_drops "$SB_PID")
		((socks > 2 * CALLS)) && break
		sleep 0.2
	done
	sleep 3
	conf_mark 1
	sleep "$WINDOW"
	conf_mark 2
	peak_fds=$(fds "$SB_PID")
	peak_threads=$(threads "$SB_PID")
	win_rss=$(rss_kb "$SB_PID")
	# The agents of every queue at once; rtppeer is their media.
	peer1=$(peer_stats)
	log0=$(wc -l <"$RUN/switchboard.log")
	AGENT_PIDS=()
	for q in $(seq "$QUEUES"); do
		SERVICE=agent$q SCENARIO=$AGENT_SCENARIO sipp_run "agents$q" $((AGENT_HOLD + 60)) -key rtpport "$PEER_PORT" \
			-m "$PER_AGENTS" -r "$AGENTS" -rp 1000 -l "$PER_AGENTS" -d "$((AGENT_HOLD * 1000))" &
		AGENT_PIDS+=($!)
	done
	set +e
	agents_rc=0
	for p in "${AGENT_PIDS[@]}"; do
		wait "$p"
		rc=$?
		((rc > agents_rc)) && agents_rc=$rc
	done
	peer2=$(peer_stats)
	sipp_rc=0
	for p in "${CALLER_PIDS[@]}"; do
		wait "$p"
		rc=$?
		((rc > sipp_rc)) && sipp_rc=$rc
	done
	set -e
elif [[ $MODE == play || $MODE == bridge ]]; then
	if [[ $MODE == bridge ]]; then
		# The callee takes CALLS calls and exits; each waits for switchboard's BYE.
		callee_run uas_load $((HOLD + RAMP_S + 60)) -m "$CALLS"
		peer0=$(peer_stats)
		log0=$(wc -l <"$RUN/switchboard.log")
		t0=$(now_ms)
		c0=$(cpu_ticks "$SB_PID")
		read -r k0 st0 < <(core_busy "$SERVER_CPU")
		read -r l0 _ < <(core_busy "$LOAD_CPU")
		a0=$(cpu_ticks "$APP_PID")
		caller_run load $((HOLD + RAMP_S + 60)) -m "$CALLS" -r "$RAMP" -l "$CALLS" -d "$((HOLD * 1000))" &
	else
		sipp_run load $((HOLD + RAMP_S + 60)) -m "$CALLS" -r "$RAMP" -l "$CALLS" -d "$((HOLD * 1000))" &
	fi
	SIPP_PID=$!
	sleep $((RAMP_S + 3))
	w0=$(now_ms)
	c1=$(cpu_ticks "$SB_PID")
	read -r k1 st1 < <(core_busy "$SERVER_CPU")
	read -r l1 _ < <(core_busy "$LOAD_CPU")
	read -r socks1 drops1 < <(sock_drops "$SB_PID")
	s1=$(sipp_pids "$RUN/load" | head -1 || true)
	sp1=""; [[ -n $s1 ]] && sp1=$(cpu_ticks "$s1" 2>/dev/null || true)
	if [[ $MODE == bridge ]]; then
		peer1=$(peer_stats)
		pw1=$(cpu_ticks "$PEER_PID")
		read -r _ pdrops1 < <(sock_drops "$PEER_PID")
		u1=$(sipp_pids "$RUN/uas_load" | head -1 || true)
		up1=""; [[ -n $u1 ]] && up1=$(cpu_ticks "$u1" 2>/dev/null || true)
	fi
	sleep "$WINDOW"
	w1=$(now_ms)
	c2=$(cpu_ticks "$SB_PID")
	read -r k2 st2 < <(core_busy "$SERVER_CPU")
	read -r l2 _ < <(core_busy "$LOAD_CPU")
	read -r socks2 drops2 < <(sock_drops "$SB_PID")
	sp2=""; [[ -n $s1 ]] && sp2=$(cpu_ticks "$s1" 2>/dev/null || true)
	if [[ $MODE == bridge ]]; then
		peer2=$(peer_stats)
		pw2=$(cpu_ticks "$PEER_PID")
		read -r _ pdrops2 < <(sock_drops "$PEER_PID")
		up2=""; [[ -n $u1 ]] && up2=$(cpu_ticks "$u1" 2>/dev/null || true)
	fi
	peak_fds=$(fds "$SB_PID")
	peak_threads=$(threads "$SB_PID")
	win_rss=$(rss_kb "$SB_PID")
	set +e
	wait "$SIPP_PID"
	sipp_rc=$?
	if [[ $MODE == bridge ]]; then
		sipp_stop uas_load "$UAS_PID" 15
		uas_rc=$?
	fi
	set -e
elif [[ $MODE == rest ]]; then
	total=$((RATE * SECONDS_RUN))
	# The UAS takes the calls restload creates: -m of them, then it exits.
	sipp_uas load $((SECONDS_RUN + 60)) -m "$total"
	SIPP_PID=$UAS_PID
	t0=$(now_ms)
	c0=$(cpu_ticks "$SB_PID")
	read -r k0 st0 < <(core_busy "$SERVER_CPU")
	a0=$(cpu_ticks "$APP_PID")
	set +e
	restload_run load "$RATE" "$SECONDS_RUN" &
	RL_PID=$!
	peak_fds=0
	peak_threads=0
	while kill -0 "$RL_PID" 2>/dev/null; do
		f=$(fds "$SB_PID"); ((f > peak_fds)) && peak_fds=$f
		th=$(threads "$SB_PID"); ((th > peak_threads)) && peak_threads=$th
		sleep 1
	done
	wait "$RL_PID"
	rl_rc=$?
	# The CPU window: the first create to the last completed callback (or
	# restload's 30 s wait for it).
	w0=$t0
	c1=$c0
	k1=$k0
	st1=$st0
	w1=$(now_ms)
	c2=$(cpu_ticks "$SB_PID")
	read -r k2 st2 < <(core_busy "$SERVER_CPU")
	win_rss=$(rss_kb "$SB_PID")
	sipp_stop load "$SIPP_PID" 15
	sipp_rc=$?
	set -e
else
	total=$((RATE * SECONDS_RUN))
	if [[ $MODE == dial ]]; then
		# The callee takes the dialled legs: -m of them, then it exits.
		callee_run uas_load $((SECONDS_RUN + 60)) -m "$total"
		log0=$(wc -l <"$RUN/switchboard.log")
		t0=$(now_ms)
		c0=$(cpu_ticks "$SB_PID")
		read -r k0 st0 < <(core_busy "$SERVER_CPU")
		a0=$(cpu_ticks "$APP_PID")
	fi
	# -l: room for ~10 s of calls in flight (a 3 s prompt is ~3 calls-seconds each)
	set +e
	if [[ $MODE == dial ]]; then
		caller_run load $((SECONDS_RUN + 60)) -m "$total" -r "$RATE" -l $((RATE * 10 + 10)) &
	else
		sipp_run load $((SECONDS_RUN + 60)) -m "$total" -r "$RATE" -l $((RATE * 10 + 10)) &
	fi
	SIPP_PID=$!
	peak_fds=0
	peak_threads=0
	# Every second: fds, threads, and the server's CPU over that second
	# ($RUN/cpu_1s.txt: ms since t0, CPU ticks, fds), to see saturation that
	# the average over the run dilutes.
	pt=$(now_ms); pc_=$(cpu_ticks "$SB_PID")
	while kill -0 "$SIPP_PID" 2>/dev/null; do
		f=$(fds "$SB_PID"); ((f > peak_fds)) && peak_fds=$f
		th=$(threads "$SB_PID"); ((th > peak_threads)) && peak_threads=$th
		sleep 1
		nt=$(now_ms); nc=$(cpu_ticks "$SB_PID" 2>/dev/null || echo "$pc_")
		echo "$((nt - t0)) $(awk -v t="$((nc - pc_))" -v hz="$CLK_TCK" -v ms="$((nt - pt))" 'BEGIN { printf "%.0f", 100 * t / hz / (ms / 1000) }') $f" >>"$RUN/cpu_1s.txt"
		pt=$nt; pc_=$nc
	done
	wait "$SIPP_PID"
	sipp_rc=$?
	if [[ $MODE == dial ]]; then
		sipp_stop uas_load "$UAS_PID" 15
		uas_rc=$?
	fi
	set -e
	w0=$t0
	c1=$c0
	k1=$k0
	st1=$st0
	w1=$(now_ms)
	c2=$(cpu_ticks "$SB_PID")
	wc2=$(wchar "$SB_PID")
	read -r k2 st2 < <(core_busy "$SERVER_CPU")
	win_rss=$(rss_kb "$SB_PID")
fi
a1=$(cpu_ticks "$APP_PID")
t1=$(now_ms)

# --- after: did everything drain? -------------------------------------------
if [[ -n ${SBPROF_HTTP:-} ]]; then
	curl -fsS --max-time 20 -o "$RUN/heap_load.pprof" "http://$SBPROF_HTTP/debug/pprof/heap?gc=1" 2>/dev/null || true
fi
DRAIN=${DRAIN:-5}
sleep "$DRAIN"
end_fds=$(fds "$SB_PID")
end_threads=$(threads "$SB_PID")
end_rss=$(rss_kb "$SB_PID")
peak_rss=$(hwm_kb "$SB_PID")
end_gr=$(goroutines)
# What is still open after the drain is the SIP socket (and the RTCP/RTP of
# calls not yet ended): datagrams the kernel dropped on it since it opened.
read -r end_socks end_drops < <(sock_drops "$SB_PID")
if [[ -n ${SBPROF_HTTP:-} ]]; then
	curl -fsS --max-time 20 -o "$RUN/heap_after.pprof" "http://$SBPROF_HTTP/debug/pprof/heap?gc=1" 2>/dev/null || true
	curl -fsS --max-time 20 -o "$RUN/goroutines_after.txt" "http://$SBPROF_HTTP/debug/pprof/goroutine?debug=1" 2>/dev/null || true
fi
alive=yes
kill -0 "$SB_PID" 2>/dev/null || alive=NO
if [[ $MODE == bridge ]]; then
	# rtppeer's last word: the counters of every stream (all ended by now).
	peer_end=$(peer_stats)
	kill -TERM "$PEER_PID" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$PEER_PID" 2>/dev/null || break; sleep 0.1; done
	peer_streams=$(grep '^STREAMS ' "$RUN/rtppeer.log" | tail -1 || true)
fi

# --- report ----------------------------------------------------------------
L=$RUN/load
# LOADS: the SIPp runs of the measured load (conference: every room's talkers and probes).
LOADS=("$L")
if [[ $MODE == conference || $MODE == queue ]]; then
	LOADS=()
	for d in "$RUN"/load "$RUN"/load[0-9]* "$RUN"/probe[0-9]*; do [[ -d $d ]] && LOADS+=("$d"); done
fi
# stat_sum NAME: the named column of SIPp's last statistics line, summed over LOADS.
stat_sum() {
	local d t=0
	for d in "${LOADS[@]}"; do [[ -s $d/stat.csv ]] && t=$((t + $(stat_col "$d" "$1"))); done
	echo "$t"
}
created=$(stat_sum 'TotalCallCreated')
ok=$(stat_sum 'SuccessfulCall(C)')
failed=$(stat_sum 'FailedCall(C)')
retrans=$(stat_sum 'Retransmissions(C)')
unexpected=$(stat_sum 'FailedUnexpectedMessage(C)')
[[ ($MODE == conference || $MODE == queue) && $created != "$CALLS" ]] && FAILED=1
[[ $failed == 0 && $ok == "$created" && $sipp_rc == 0 ]] || FAILED=1
if [[ $MODE == rest ]]; then
	[[ $rl_rc == 0 && $ok == "$total" ]] || FAILED=1
fi
if [[ $MODE == dial || $MODE == bridge ]]; then
	U=$RUN/uas_load
	u_created=$(stat_col "$U" 'TotalCallCreated')
	u_ok=$(stat_col "$U" 'SuccessfulCall(C)')
	u_failed=$(stat_col "$U" 'FailedCall(C)')
	u_unexpected=$(stat_col "$U" 'FailedUnexpectedMessage(C)')
	u_retrans=$(stat_col "$U" 'Retransmissions(C)')
	[[ $u_failed == 0 && $u_ok == "$ok" && $uas_rc == 0 ]] || FAILED=1
fi

echo
echo "== result: $ARGS"
if [[ $MODE == rest ]]; then
	sed -n '/^== restload/,$p' "$RUN/load/restload.out" | grep -v '^== ' || cat "$RUN/load/restload.out"
	echo "restload exit $rl_rc; SIPp UAS (callee): sipp exit $sipp_rc; calls received $created of $total, succeeded $ok, failed $failed (unexpected msg $unexpected), retransmissions $retrans"
elif [[ $MODE == queue ]]; then
	echo "callers: sipp exit $sipp_rc (worst of ${#LOADS[@]} runs, one per queue); calls attempted $created of $CALLS, succeeded $ok, failed $failed (unexpected msg $unexpected), retransmissions $retrans"
	a_created=0 a_ok=0 a_failed=0
	for d in "$RUN"/agents[0-9]*; do
		a_created=$((a_created + $(stat_col "$d" 'TotalCallCreated')))
		a_ok=$((a_ok + $(stat_col "$d" 'SuccessfulCall(C)')))
		a_failed=$((a_failed + $(stat_col "$d" 'FailedCall(C)')))
	done
	[[ $a_failed == 0 && $a_ok == "$AGENTS" && $agents_rc == 0 ]] || FAILED=1
	echo "agents: sipp exit $agents_rc (worst of $QUEUES runs); calls attempted $a_created of $AGENTS, succeeded $a_ok, failed $a_failed"
elif [[ $MODE == conference ]]; then
	echo "sipp exit $sipp_rc (worst of ${#LOADS[@]} runs: $ROOMS x talkers, $ROOMS x probes); participants attempted $created of $CALLS ($ROOMS rooms x ($TALKERS SIPp talkers + $PROBES probes)), succeeded $ok, failed $failed (unexpected msg $unexpected), retransmissions $retrans"
else
	echo "sipp exit $sipp_rc; calls attempted $created, succeeded $ok, failed $failed (unexpected msg $unexpected), retransmissions $retrans"
fi
for d in "${LOADS[@]}"; do
	[[ -s $d/stat.csv ]] || continue
	awk -F';' -v w="$([[ $MODE == conference ]] && echo " (${d##*/})")" 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next } { for (i = 1; i <= NF; i++) v[i] = $i }
		END { s = ""; for (i = 1; i in h; i++) if (h[i] ~ /^Failed.*\(C\)$/ && v[i] + 0 > 0) s = s " " h[i] "=" v[i]; if (s != "") print "failures by kind" w ":" s }' "$d/stat.csv"
done
if [[ $MODE == dial || $MODE == bridge ]]; then
	echo "SIPp UAS (the dialled legs): sipp exit $uas_rc; calls received $u_created, succeeded $u_ok, failed $u_failed (unexpected msg $u_unexpected), retransmissions $u_retrans"
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i; next } { for (i = 1; i <= NF; i++) v[i] = $i }
		END { s = ""; for (i = 1; i in h; i++) if (h[i] ~ /^Failed.*\(C\)$/ && v[i] + 0 > 0) s = s " " h[i] "=" v[i]; if (s != "") print "  callee failures by kind:" s }' "$U/stat.csv"
fi
if [[ $MODE == dial ]]; then
	# The caller's call: answered, the app's <Dial>, the callee's 1 s, its BYE relayed.
	echo "caller's call length (SIPp, INVITE to BYE, average): $(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "CallLength(C)") c = i; next }
		{ v = $c } END { split(v, t, ":"); printf "%.1f", ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4] / 1000 }' "$L/stat.csv") ms (the callee holds 1,000 ms)"
fi
# pct P FILE: the P-th percentile (nearest rank) of the sorted numbers in FILE.
pct() { awk -v p="$1" -v n="$(wc -l <"$2")" 'NR == (int(n * p / 100 + 0.999999) > 0 ? int(n * p / 100 + 0.999999) : 1) { printf "%.2f", $1; exit }' "$2"; }
# The precise figure: INVITE sent -> 200 OK received per call, from SIPp's
# message log (microsecond timestamps).
# load_files GLOB: in each load's folder, the first file GLOB names, if not empty.
load_files() {
	local d m
	for d in "${LOADS[@]}"; do
		m=$(find "$d" -maxdepth 1 -name "$1" 2>/dev/null | head -1 || true)
		[[ -n $m && -s $m ]] && echo "$m"
	done
	return 0
}
mapfile -t msglogs < <(load_files '*_messages.log')
if ((${#msglogs[@]} > 0)); then
	for m in "${msglogs[@]}"; do awk -f "$ROOT/bench/invite_latency.awk" "$m"; done | sort -n -k1,1 >"$RUN/latency.txt"
	n=$(wc -l <"$RUN/latency.txt")
	if ((n > 0)); then
		awk '{ print $2 }' "$RUN/latency.txt" | sort -g >"$RUN/lat_sorted.txt"
		echo "INVITE->200 OK (ms, message log, $n calls): p50 $(pct 50 "$RUN/lat_sorted.txt")  p90 $(pct 90 "$RUN/lat_sorted.txt")  p99 $(pct 99 "$RUN/lat_sorted.txt")  max $(tail -1 "$RUN/lat_sorted.txt")"
		if [[ $MODE != play && $MODE != bridge && $MODE != conference && $MODE != queue && $n -gt 1 ]]; then
			awk -v r="$RATE" 'NR == 1 { f = $1 } { l = $1 } END { printf "answered calls/s (first to last 200 OK): %.1f (offered %d/s)\n", (NR - 1) / (l > f ? l - f : 1), r }' "$RUN/latency.txt"
		fi
	fi
fi
# SIPp's own rtd (-trace_rtt), in its 4 ms clock ticks here: a cross-check.
mapfile -t rtts < <(load_files '*_rtt.csv')
if ((${#rtts[@]} > 0)); then
	awk -F';' 'FNR > 1 && $2 != "" { print $2 }' "${rtts[@]}" | sort -g >"$RUN/rtd_sorted.txt"
	n=$(wc -l <"$RUN/rtd_sorted.txt")
	((n > 0)) && echo "INVITE->200 OK (ms, SIPp rtd, coarse clock, $n calls): p50 $(pct 50 "$RUN/rtd_sorted.txt")  p99 $(pct 99 "$RUN/rtd_sorted.txt")  max $(tail -1 "$RUN/rtd_sorted.txt")"
fi
if [[ $MODE == dial || $MODE == bridge || $MODE == queue ]]; then
	# From switchboard's log (ms stamps): the caller answered ("call connected",
	# inbound) -> the dialled leg answered and bridged ("bridged"). In queue
	# mode the caller is the agent, answered as its <Dial><Queue> starts, and
	# the span is the dequeue: the front caller taken and bridged.
	awk -v n0="$log0" 'NR <= n0 { next } function ms(s, p) { split(substr(s, 17, 12), p, ":"); return (p[1] * 3600 + p[2] * 60 + p[3]) * 1000 }
		/msg="call connected"/ && /direction=inbound/ { for (i = 1; i <= NF; i++) if ($i ~ /^call=/) up[$i] = ms($1) }
		/msg=bridged/ { for (i = 1; i <= NF; i++) if ($i ~ /^call=/ && ($i in up)) print ms($1) - up[$i] }' "$RUN/switchboard.log" |
		sort -g >"$RUN/bridge_sorted.txt"
	n=$(wc -l <"$RUN/bridge_sorted.txt")
	what="caller answered -> callee answered and bridged (ms, switchboard log, $n calls of the load)"
	[[ $MODE == queue ]] && what="dequeue to bridge: agent answered at its <Dial><Queue> -> bridged to the front caller (ms, switchboard log, $n of $AGENTS agents)"
	((n > 0)) && echo "$what: p50 $(pct 50 "$RUN/bridge_sorted.txt")  p90 $(pct 90 "$RUN/bridge_sorted.txt")  p99 $(pct 99 "$RUN/bridge_sorted.txt")  max $(tail -1 "$RUN/bridge_sorted.txt")"
fi
win_s=$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
cpu=$(awk -v t="$((c2 - c1))" -v hz="$CLK_TCK" -v s="$win_s" 'BEGIN { printf "%.1f", 100 * t / hz / s }')
app_cpu=$(awk -v t="$((a1 - a0))" -v hz="$CLK_TCK" -v s="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1000 }')" 'BEGIN { printf "%.1f", 100 * t / hz / s }')
echo "switchboard CPU: $cpu % of one core over ${win_s} s ($((c2 - c1)) ticks); benchapp CPU $app_cpu %"
pc() { awk -v t="$1" -v hz="$CLK_TCK" -v s="$win_s" 'BEGIN { printf "%.1f", 100 * t / hz / s }'; }
if [[ -s $RUN/cpu_1s.txt ]]; then
	# Only the seconds while SIPp placed calls (the run's first SECONDS);
	# conference: every second of the window.
	lim=${SECONDS_RUN:-0}
	[[ $MODE == conference ]] && lim=100000
	awk -v s="$lim" '$1 <= s * 1000 + 1000 { print $2 }' "$RUN/cpu_1s.txt" | sort -g >"$RUN/cpu_1s_sorted.txt"
	n=$(wc -l <"$RUN/cpu_1s_sorted.txt")
	when="while calls were placed"
	[[ $MODE == conference ]] && when="in the window"
	((n > 0)) && echo "  per second $when ($n samples, $RUN/cpu_1s.txt): p50 $(pct 50 "$RUN/cpu_1s_sorted.txt") %, p90 $(pct 90 "$RUN/cpu_1s_sorted.txt") %, max $(tail -1 "$RUN/cpu_1s_sorted.txt") %; seconds at >= 95 %: $(awk '$1 >= 95' "$RUN/cpu_1s_sorted.txt" | wc -l)"
fi
echo "  core $SERVER_CPU busy $(pc $((k2 - k1))) % (of which not switchboard's own time $(pc $((k2 - k1 - c2 + c1))) %: other processes, softirq; steal $(pc $((st2 - st1))) %)"
if [[ $MODE == play || $MODE == bridge ]]; then
	ncores=$(awk -F, '{ print NF }' <<<"$SERVER_CPU")
	((ncores > 1)) && echo "  = $(awk -v c="$cpu" -v n="$ncores" 'BEGIN { printf "%.1f", c / n }') % of the $ncores cores it may use ($SERVER_CPU; GOMAXPROCS $ncores)"
	[[ $MODE == bridge ]] && echo "  per bridge (2 legs): $(awk -v c="$cpu" -v n="$CALLS" 'BEGIN { printf "%.3f", c / n }') % of a core; per leg $(awk -v c="$cpu" -v n="$CALLS" 'BEGIN { printf "%.4f", c / n / 2 }') %"
	echo "  per call: $(awk -v c="$cpu" -v n="$CALLS" 'BEGIN { printf "%.3f", c / n }') % of a core ($(awk -v c="$cpu" -v n="$CALLS" 'BEGIN { printf "%.1f", c * 10000 / n }') us CPU per call-second)"
	if [[ -n ${sp1:-} && -n ${sp2:-} ]]; then
		echo "  SIPp CPU over the window: $(awk -v t="$((sp2 - sp1))" -v hz="$CLK_TCK" -v s="$win_s" 'BEGIN { printf "%.1f", 100 * t / hz / s }') %"
	fi
	if [[ $MODE == bridge ]]; then
		echo "  load core $LOAD_CPU busy: $(awk -v t="$((l1 - l0))" -v hz="$CLK_TCK" -v ms="$((w0 - t0))" 'BEGIN { printf "%.1f", 100 * t / hz / (ms / 1000) }') % while calls were placed (the INVITE->200 OK above is timed by SIPp there), $(pc $((l2 - l1))) % over the window"
		echo "  callee SIPp CPU $( [[ -n ${up1:-} && -n ${up2:-} ]] && pc $((up2 - up1)) || echo -) %, rtppeer CPU $(pc $((pw2 - pw1))) % (core $LOAD_CPU)"
	fi
elif [[ $MODE == queue ]]; then
	echo "  per waiting caller (all $CALLS waiting with the hold music): $(awk -v c="$cpu" -v n="$CALLS" 'BEGIN { printf "%.4f", c / n }') % of a core ($(awk -v c="$cpu" -v n="$CALLS" 'BEGIN { printf "%.1f", c * 10000 / n }') us CPU per caller-second)"
	echo "  SIPp callers CPU $(pc $((sp2 - sp1))) %; load core $LOAD_CPU busy $(pc $((l2 - l1))) % over the window"
elif [[ $MODE == conference ]]; then
	ncores=$(awk -F, '{ print NF }' <<<"$SERVER_CPU")
	((ncores > 1)) && echo "  = $(awk -v c="$cpu" -v n="$ncores" 'BEGIN { printf "%.1f", c / n }') % of the $ncores cores it may use ($SERVER_CPU; GOMAXPROCS $ncores)"
	echo "  per participant: $(awk -v c="$cpu" -v n="$CALLS" 'BEGIN { printf "%.4f", c / n }') % of a core; per 20 ms tick: $(awk -v c="$cpu" 'BEGIN { printf "%.0f", c * 200 }') us of CPU for all ($ROOMS room(s) of $PARTICIPANTS), $(awk -v c="$cpu" -v n="$CALLS" 'BEGIN { printf "%.2f", c * 200 / n }') us per participant (CPU time / window / 50 ticks a second: the whole process, not the pacer alone)"
	# The pacer is one goroutine; Go moves it between threads, so the busiest
	# thread is a lower bound on a saturated pacer, not its measure.
	busiest=$(awk 'NR == FNR { a[$1] = $2; next } ($1 in a) { d = $2 - a[$1]; if (d > m) { m = d; t = $1 } } END { print t + 0, m + 0 }' "$RUN/threads1.txt" "$RUN/threads2.txt")
	echo "  busiest thread over the window: $(pc "${busiest#* }") % of a core (tid ${busiest% *}, of $(wc -l <"$RUN/threads2.txt") threads)"
	echo "  SIPp talkers CPU $(pc $((sp2 - sp1))) %, confpeer CPU $(pc $((pw2 - pw1))) %; load core(s) $LOAD_CPU busy $(pc $((l2 - l1))) % over the window"
else
	written=-
	[[ -n ${wc2:-} ]] && written=$(awk -v b="$((wc2 - wc0))" -v n="$ok" 'BEGIN { if (n > 0) printf "%.1f", b / 1024 / n; else print "-" }')
	echo "  per call: $(awk -v t="$((c2 - c1))" -v hz="$CLK_TCK" -v n="$ok" 'BEGIN { if (n > 0) printf "%.2f", 1000 * t / hz / n; else print "-" }') ms CPU per completed call; $written KiB written per completed call (wchar: the WAL, checkpoints, logs)"
fi
echo "switchboard RSS: before $((base_rss / 1024)) MB, in load $((win_rss / 1024)) MB, peak $((peak_rss / 1024)) MB, $DRAIN s after $((end_rss / 1024)) MB"
if [[ $MODE == play || $MODE == bridge || $MODE == conference || $MODE == queue ]]; then
	echo "  per $([[ $MODE == conference ]] && echo participant || echo call): $(((win_rss - base_rss) / CALLS)) KB RSS"
	echo "switchboard UDP sockets in the window: $socks1 -> $socks2; datagrams dropped on them (receive buffer full): $((drops2 - drops1))"
fi
# shellcheck disable=SC2154 # wlog0 and wlog1 are set by conf_mark
if [[ $MODE == conference ]]; then
	# Pacer ticks given up (switchboard's WARN "media pacer fell behind;
	# dropped ticks" ticks=N), in the window and over the whole run.
	dropped() { awk -v a="$1" -v b="$2" 'NR > a && NR <= b && /pacer fell behind/ { for (i = 1; i <= NF; i++) if ($i ~ /^ticks=/) { sub(/ticks=/, "", $i); n += $i; k++ } }
		END { printf "%d (%d log lines)", n, k }' "$RUN/switchboard.log"; }
	echo "media pacer ticks dropped (switchboard log): in the window $(dropped "$wlog0" "$wlog1"); whole load $(dropped "$log0" 1000000000)"
	# SB_GODEBUG=gctrace=1: the GC cycles in the window (stop-the-world =
	# the first and last clock figures; the middle one is concurrent mark).
	awk -v a="$wlog0" -v b="$wlog1" -v t="$([[ ${SB_GODEBUG:-} == *gctrace=1* ]] && echo 1)" 'NR > a && NR <= b && /^gc [0-9]+ @/ { split($5, c, "+"); stw = c[1] + c[3]; n++; s += stw; if (stw > m) m = stw; if (c[2] > mk) mk = c[2]; h = $11 }
		END { if (n > 0) printf "  GC in the window (gctrace): %d cycles, stop-the-world %.2f ms in all, max %.3f ms; concurrent mark max %.1f ms; heap %s MB at the last\n", n, s, m, mk, h
			else if (t) print "  GC in the window (gctrace): no cycle" }' "$RUN/switchboard.log"
	kvs() { awk -v k="$2" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) v = substr($i, length(k) + 2) } END { print v }' <<<"$1"; }
	echo "what the probes heard over the window (confpeer; ${win_s} s; expected 50 packets/s per probe leg):"
	while read -r line; do
		[[ -n $line ]] || continue
		r=$(kvs "$line" room)
		act=$(kvs "$line" active)
		ws=$(awk -v m="$(kvs "$line" win_ms)" 'BEGIN { printf "%.2f", m / 1000 }')
		rx=$(kvs "$line" rx)
		exp_pk=$(awk -v n="$act" -v s="$ws" 'BEGIN { printf "%d", n * s * 50 }')
		spanned=$(kvs "$line" spanned)
		lost=$(kvs "$line" lost)
		cut=$(kvs "$line" dropped)
		echo "  room$r: $act probe legs (talker live: $(kvs "$line" talker)); RTP packets received $rx of ~$exp_pk due, switchboard sequence numbers missing $(kvs "$line" seqlost), ticks skipped in its timestamps $(kvs "$line" tsskip) (= pacer ticks dropped x legs)"
		echo "    talker -> listeners: $spanned talker frames followed (found in $(kvs "$line" tone), missing in $(kvs "$line" gap) of $(kvs "$line" listen) listener frames); lost $lost frames (silence in their place) + $cut samples cut (delay drops): loss $(awk -v l="$lost" -v c="$cut" -v m="$spanned" 'BEGIN { if (m > 0) printf "%.4f", 100 * (l * 160 + c) / (m * 160); else print "-" }') %; silence inserted $(kvs "$line" inserted) samples (delay grown)"
		echo "    the talker hears the others at $(kvs "$line" heard_db) dBFS, in $(kvs "$line" heard_frames) of $(kvs "$line" heard) frames above -60 dBFS; hears its own tone in $(kvs "$line" self) (mix-minus: 0); listeners hear the others (tone removed) at $(kvs "$line" others_db) dBFS"
		echo "    mouth-to-ear, talker -> listeners (marker frames, kernel timestamps): p50 $(kvs "$line" delay_p50_ms) ms, p99 $(kvs "$line" delay_p99_ms) ms, max $(kvs "$line" delay_max_ms) ms ($(kvs "$line" delay_n) markers)"
		echo "    send lateness against the 20 ms grid (kernel rx timestamp - RTP tick, less the stream's minimum): p50 $(kvs "$line" late_p50_us) us, p99 $(kvs "$line" late_p99_us) us, p99.9 $(kvs "$line" late_p999_us) us, max $(kvs "$line" late_max_us) us ($(kvs "$line" late_n) packets)"
	done <<<"$conf_win"
	echo "  confpeer: send ticks late $(kvs "$(tail -1 <<<"$conf_win")" late_ticks), send errors $(kvs "$(tail -1 <<<"$conf_win")" txerr), socket drops in the window $((pdrops2 - pdrops1)); per-second timeline $RUN/confpeer_timeline.txt"
	grep '^TOTAL ' "$RUN/confpeer.log" | awk '{ printf "  whole run, %s:", $2; for (i = 3; i <= NF; i++) if ($i ~ /^(streams|rx|seqlost|tsskip|spanned|lost|dropped|inserted|gap|self)=/) printf " %s", $i; print "" }' || true
fi
if [[ $MODE == queue ]]; then
	# What the agents heard (rtppeer): the callers' marked tone, once bridged.
	d() { echo $(($(kv "$peer2" "$1") - $(kv "$peer1" "$1"))); }
	echo "the agents' audio (caller -> switchboard -> agent, at rtppeer): streams $(d streams) (want $AGENTS), caller's frames delivered $(d marked) (~$((AGENTS * AGENT_HOLD * 50)) for ${AGENT_HOLD} s each), lost $(d lost): loss $(awk -v l="$(d lost)" -v m="$(d marked)" 'BEGIN { if (l + m > 0) printf "%.4f", 100 * l / (l + m); else print "-" }') %; switchboard sequence numbers missing $(d seqlost); unmarked frames between marked ones $(d gap)"
	(($(d streams) == AGENTS)) || FAILED=1
fi
if [[ $MODE == bridge ]]; then
	# Over the window: what rtppeer (the callee's media) got from switchboard.
	d() { echo $(($(kv "$peer2" "$1") - $(kv "$peer1" "$1"))); }
	w_rx=$(d rx); w_marked=$(d marked); w_lost=$(d lost); w_seq=$(d seqlost); w_gap=$(d gap); w_rep=$(d repeated)
	w_tx=$(d tx)
	exp_pk=$(awk -v n="$CALLS" -v s="$win_s" 'BEGIN { printf "%d", n * s * 50 }')
	echo "bridged audio over the window (caller -> switchboard -> callee, at rtppeer; $(kv "$peer1" active) -> $(kv "$peer2" active) streams):"
	echo "  RTP packets received $w_rx (50/s x $CALLS dialled legs x ${win_s} s = $exp_pk), switchboard sequence numbers missing $w_seq"
	echo "  caller's frames delivered $w_marked, lost $w_lost: loss $(awk -v l="$w_lost" -v m="$w_marked" 'BEGIN { if (l + m > 0) printf "%.4f", 100 * l / (l + m); else print "-" }') %; repeated $w_rep; unmarked frames between marked ones $w_gap"
	echo "  callee -> switchboard: rtppeer sent $w_tx packets, send errors $(($(kv "$peer2" txerr) - $(kv "$peer1" txerr))), its ticks late $(($(kv "$peer2" late_ticks) - $(kv "$peer1" late_ticks))); rtppeer socket drops $((pdrops2 - pdrops1))"
	e() { echo $(($(kv "$peer_end" "$1") - $(kv "$peer0" "$1"))); }
	echo "whole load (all $CALLS bridges, ramp and hang-up included): streams $(e streams), frames delivered $(e marked), lost $(e lost) ($(awk -v l="$(e lost)" -v m="$(e marked)" 'BEGIN { if (l + m > 0) printf "%.4f", 100 * l / (l + m); else print "-" }') %), seq missing $(e seqlost), gaps $(e gap)"
	[[ -n ${peer_streams:-} ]] && echo "  ${peer_streams#STREAMS } (warm-up included)"
fi
echo "switchboard UDP sockets open $DRAIN s after the load (the SIP socket...): $end_socks; datagrams dropped on them since they opened (receive buffer full): $end_drops"
echo "switchboard fds: before $base_fds, peak $peak_fds, $DRAIN s after $end_fds; threads: before $base_threads, peak $peak_threads, after $end_threads; alive: $alive"
warns=$(grep -c -E 'level=(WARN|ERROR)' "$RUN/switchboard.log" || true)
[[ -n ${base_gr:-} ]] && echo "switchboard goroutines: before $base_gr, $DRAIN s after $end_gr"
echo "switchboard log: $(wc -l <"$RUN/switchboard.log") lines, $warns WARN/ERROR"
if ((warns > 0)); then
	grep -E 'level=(WARN|ERROR)' "$RUN/switchboard.log" |
		sed -E 's/^time=[^ ]+ //; s/(call|sid|Call-ID|callid)=[^ ]+/\1=…/g; s/CA[0-9a-f]{32}/CA…/g; s/ticks=[0-9]+/ticks=N/' |
		sort | uniq -c | sort -rn | head -8 || true
	awk '/pacer fell behind/ { for (i = 1; i <= NF; i++) if ($i ~ /^ticks=/) { sub(/ticks=/, "", $i); n += $i } }
		END { if (n > 0) print "  media pacer: " n " ticks of 20 ms dropped in all" }' "$RUN/switchboard.log"
fi
# SIPp writes a statistics line every second (-fd 1): a longer gap means the
# load core, or the whole machine, stood still (a VM paused: figures invalid).
gap=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "CurrentTime") c = i; next }
	{ split($c, a, /[ \t]+/); t = a[3] + 0; if (p != "" && t - p > m) m = t - p; p = t } END { printf "%.1f", m }' "$L/stat.csv")
if awk -v g="$gap" 'BEGIN { exit !(g > 2.5) }'; then
	echo "WARNING: SIPp's 1 s statistics stopped for $gap s once: the load core or the machine stalled (a VM pause?); do not trust this run"
fi
if [[ $FAILED != 0 ]]; then
	echo "SIPp errors (first lines of the error log):"
	head -c 3000 "$L"/*_errors.log 2>/dev/null || true
	echo
fi
[[ $alive == yes ]] || FAILED=1
if [[ ${PROFILE:-0} == 1 && $alive == yes ]]; then
	kill -TERM "$SB_PID"
	for _ in $(seq 100); do kill -0 "$SB_PID" 2>/dev/null || break; sleep 0.2; done
	if [[ -s $RUN/heap_load.pprof ]]; then
		echo "-- heap in use as the load ended ($RUN/heap_load.pprof), top:"
		go tool pprof -top -sample_index=inuse_space -nodecount=8 "$RUN/switchboard" "$RUN/heap_load.pprof" 2>/dev/null | sed -n '5,16p'
	fi
	if [[ -s $RUN/heap_after.pprof ]]; then
		echo "-- heap in use $DRAIN s after the load ($RUN/heap_after.pprof), top:"
		go tool pprof -top -sample_index=inuse_space -nodecount=8 "$RUN/switchboard" "$RUN/heap_after.pprof" 2>/dev/null | sed -n '5,16p'
	fi
	for prof in cpu mutex block; do
		[[ -s $RUN/$prof.pprof ]] || continue
		echo "-- $prof profile ($RUN/$prof.pprof), top:"
		go tool pprof -top -nodecount=30 "$RUN/switchboard" "$RUN/$prof.pprof" 2>/dev/null | sed -n '1,38p'
	done
	KEEP=1
fi
exit $FAILED
