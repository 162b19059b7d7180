#!/usr/bin/env python3
"""phases.py RUNDIR: where the INVITE->200 time of a bench/run.sh hangup or say run kept with KEEP=1
goes, by quantile of the calls: SIPp's message log (INVITE sent, 200 seen) matched by Call-ID with
switchboard's "call started", "webhook" and "call connected" log lines (millisecond stamps)."""
import re,sys,glob,datetime
d=sys.argv[1]
msg=glob.glob(d+'/load/*_messages.log')[0]
inv={};ok={}
ts=None;kind=None
for line in open(msg,errors='replace'):
    if line.startswith('-----------------------------------------------'):
        kind=None; first=None
        t=line.split()[-1]
        try: ts=int(t[0:2])*3600+int(t[3:5])*60+float(t[6:])
        except ValueError: ts=None
        continue
    if line.startswith('UDP message'):
        kind='sent' if 'sent' in line else 'recv'; first=None; continue
    if kind and ts is None: kind=None
    if kind and first is None and line.strip():
        first=line.strip(); continue
    if kind and line.startswith('Call-ID:'):
        cid=line.split(':',1)[1].strip()
        if kind=='sent' and first.startswith('INVITE') and cid not in inv: inv[cid]=ts
        if kind=='recv' and first.startswith('SIP/2.0 200') and cid not in ok: ok[cid]=ts
        kind=None
ev={}
for line in open(d+'/switchboard.log',errors='replace'):
    m=re.match(r'time=\S+T(\d\d):(\d\d):(\d\d\.\d+)Z .*msg="?(call started|call connected|webhook)"? .*?call=(\S+)',line)
    if not m: continue
    t=int(m.group(1))*3600+int(m.group(2))*60+float(m.group(3))
    name=m.group(4); call=m.group(5)
    e=ev.setdefault(call,{})
    e[name]=t
    s=re.search(r'sip_call_id=(\S+)',line)
    if s: e['cid']=s.group(1)
    w=re.search(r' ms=(\d+)',line)
    if w and name=='webhook': e['whms']=int(w.group(1))
bycid={e['cid']:e for e in ev.values() if 'cid' in e}
rows=[]
for cid,t0 in inv.items():
    if cid not in ok or cid not in bycid: continue
    e=bycid[cid]
    if 'call started' not in e or 'call connected' not in e: continue
    tot=(ok[cid]-t0)*1000
    a=(e['call started']-t0)*1000; b=(e['call connected']-e['call started'])*1000; c=(ok[cid]-e['call connected'])*1000
    rows.append((tot,a,b,c,e.get('whms',-1)))
rows.sort()
n=len(rows); print(n,'calls')
def q(p): return rows[int(p*(n-1))]
import statistics
for lo,hi in [(0,0.5),(0.5,0.9),(0.9,0.99),(0.99,1.0)]:
    sel=rows[int(lo*n):int(hi*n)]
    print(f"quantile {lo}-{hi}: total {statistics.mean(r[0] for r in sel):.1f} ms = INVITE->started {statistics.mean(r[1] for r in sel):.1f} + started->connected {statistics.mean(r[2] for r in sel):.1f} (webhook {statistics.mean(r[4] for r in sel):.1f}) + connected->200 seen {statistics.mean(r[3] for r in sel):.1f}")
