"""What twtop says about TCP states and findings, as data: one table per language.

Every statement here is traceable to shared/kernel-facts.md (section numbers in comments) or to the
kernel source it cites. Placeholders ({name}) must be the same in every language; a test checks it.
Keys of STATE_TEXT entries:
  role      who this host is in the close handshake
  meaning   what the state is
  waits     what the socket is waiting for
  next      what happens next
  normal    when seeing it is normal
  problem   when it is a problem
  action    what to do (never something twtop does by itself)
"""

from __future__ import annotations

from twtop.states import TcpState as S

LANGS = ("en", "zh")

STATE_TEXT: dict[str, dict[S, dict[str, str]]] = {
    "en": {
        S.ESTABLISHED: {
            "role": "open: neither side has closed",
            "meaning": "The connection is open and data can flow both ways.",
            "waits": "data, or a FIN from either side",
            "next": "whichever side calls close() first sends a FIN and becomes the active closer",
            "normal": "Always, for live connections.",
            "problem": "Only in numbers: thousands per peer can mean a leak of pooled connections.",
            "action": "Nothing, unless the count keeps growing for one peer or process.",
        },
        S.SYN_SENT: {
            "role": "opening: this host sent a SYN (outbound connect)",
            "meaning": "connect() sent a SYN and waits for the peer's SYN-ACK.",
            "waits": "the peer's SYN-ACK",
            "next": "ESTABLISHED on SYN-ACK; SYN retransmissions (timer 'on') then failure",
            "normal": "For a few milliseconds per connect().",
            "problem": "Many, or with retransmits: the peer or the path drops SYNs (firewall, "
            "full accept queue, routing).",
            "action": "Check reachability of the peer port; count retransmits in the timer column.",
        },
        S.SYN_RECV: {
            "role": "opening: a SYN arrived on a listening port (inbound)",
            "meaning": "A request socket: SYN received, SYN-ACK sent, waiting for the final ACK.",
            "waits": "the client's ACK that completes the handshake",
            "next": "the connection moves to the listener's accept queue as ESTABLISHED",
            "normal": "Briefly, a few per listener.",
            "problem": "Piles: a SYN flood, or clients that never ACK. With tcp_syncookies=1 the "
            "kernel answers with cookies when the SYN queue overflows.",
            "action": "Check tcp_syncookies and tcp_max_syn_backlog; look at the peers holding them.",
        },
        S.FIN_WAIT1: {
            "role": "ACTIVE closer: this host closed first",
            "meaning": "This host sent its FIN and waits for the peer to acknowledge it.",
            "waits": "the ACK of our FIN",
            "next": "FIN_WAIT2 on ACK; CLOSING if the peer's FIN comes first; TIME_WAIT if both",
            "normal": "For about one round trip.",
            "problem": "Lingering (timer 'on' with retransmits): the peer is gone or its receive "
            "window is full, so our FIN cannot be delivered.",
            "action": "Look at wqueue (unsent data ahead of the FIN) and the retransmit count.",
        },
        S.FIN_WAIT2: {
            "role": "ACTIVE closer: this host closed first",
            "meaning": "Our FIN was acknowledged; the peer has not sent its own FIN yet.",
            "waits": "the peer's FIN (the peer application must call close())",
            "next": "TIME_WAIT when the peer's FIN arrives",
            "normal": "While the peer finishes sending; briefly.",
            "problem": "Piles mean the peer never closes. If this host's application already "
            "closed (orphan), tcp_fin_timeout bounds the wait; if it only called "
            "shutdown(SHUT_WR) and still holds the socket, there is no timer at all.",
            "action": "Find why the peer keeps its side open; tcp_fin_timeout bounds orphans only.",
        },
        S.TIME_WAIT: {
            "role": "ACTIVE closer: this host closed first",
            "meaning": "Both FINs were exchanged and our last ACK sent. The socket stays for 60 s "
            "(TCP_TIMEWAIT_LEN, a fixed constant) so late segments of this connection die "
            "and the last ACK can be resent if the peer's FIN is retransmitted.",
            "waits": "its 60 s timer (no sysctl changes it; tcp_fin_timeout does not)",
            "next": "the socket disappears; its 4-tuple (and its local port towards that "
            "destination) can be used again",
            "normal": "Always on the side that closes first; one per closed connection for 60 s.",
            "problem": "When one (src, dst, dport) tuple holds most of its ephemeral ports, or "
            "tcp_max_tw_buckets is reached (TCPTimeWaitOverflow rises).",
            "action": "Reuse connections (keep-alive, pooling). For outbound connections "
            "tcp_tw_reuse=1 lets connect() reuse a TIME_WAIT older than tcp_tw_reuse_delay "
            "when timestamps were used. More source IPs or destination ports widen the space. "
            "tcp_tw_recycle no longer exists (removed in Linux 4.12).",
        },
        S.CLOSE: {
            "role": "closed: no connection",
            "meaning": "The socket is not connected (a bound or aborted socket).",
            "waits": "nothing",
            "next": "nothing until the application uses or closes it",
            "normal": "Yes, in small numbers.",
            "problem": "Rarely.",
            "action": "Nothing.",
        },
        S.CLOSE_WAIT: {
            "role": "PASSIVE closer: the peer closed first",
            "meaning": "The peer sent its FIN and the kernel acknowledged it. The application on "
            "this host has not called close() yet.",
            "waits": "this host's application to call close() (no timer: it can wait forever)",
            "next": "close() sends our FIN and the socket goes to LAST_ACK",
            "normal": "For the moment between reading end-of-file and calling close().",
            "problem": "Any pile, or CLOSE_WAITs that stay across polls: the application leaks "
            "sockets (a code path that never closes). Unread data in rqueue means it stopped "
            "reading, too.",
            "action": "Find the owning process (pid shown) and the code path that does not close. "
            "Restarting it releases them; no sysctl does.",
        },
        S.LAST_ACK: {
            "role": "PASSIVE closer: the peer closed first",
            "meaning": "Both sides sent FINs; this host waits for the ACK of its own FIN.",
            "waits": "the peer's final ACK",
            "next": "the socket is gone (the passive closer keeps no TIME_WAIT)",
            "normal": "For about one round trip.",
            "problem": "Lingering with retransmits: the peer vanished after sending its FIN.",
            "action": "Usually nothing; the FIN is retransmitted, then the socket is dropped.",
        },
        S.LISTEN: {
            "role": "listening: accepts inbound connections",
            "meaning": "A listening socket. rqueue is the accept queue now, wqueue its limit "
            "(min of the listen() backlog and somaxconn).",
            "waits": "SYNs, and the application to accept() queued connections",
            "next": "new connections queue here until accept()",
            "normal": "Always, with an accept queue near 0.",
            "problem": "A queue at its limit: the application accepts too slowly and new "
            "connections are dropped (ListenOverflows rises).",
            "action": "Make the application accept faster, or raise the backlog and somaxconn.",
        },
        S.CLOSING: {
            "role": "ACTIVE closer, simultaneous close",
            "meaning": "Both sides sent FINs at about the same time; ours is not acknowledged yet.",
            "waits": "the ACK of our FIN",
            "next": "TIME_WAIT",
            "normal": "Rare and brief.",
            "problem": "Lingering: the ACK of our FIN is lost; the FIN is retransmitted.",
            "action": "Nothing usually.",
        },
    },
    "zh": {
        S.ESTABLISHED: {
            "role": "连接中:双方都未关闭",
            "meaning": "连接已建立,数据可以双向传输。",
            "waits": "数据,或任一方发来的 FIN",
            "next": "先调用 close() 的一方发送 FIN,成为主动关闭方",
            "normal": "活跃连接总是处于此状态。",
            "problem": "只在数量异常时:对同一对端成千上万,可能是连接池泄漏。",
            "action": "无需处理,除非某个对端或进程的数量持续增长。",
        },
        S.SYN_SENT: {
            "role": "建立中:本机发出了 SYN(出站 connect)",
            "meaning": "connect() 已发送 SYN,等待对端的 SYN-ACK。",
            "waits": "对端的 SYN-ACK",
            "next": "收到 SYN-ACK 后进入 ESTABLISHED;否则重传 SYN(定时器 on),最终失败",
            "normal": "每次 connect() 持续几毫秒。",
            "problem": "数量多或有重传:对端或路径丢弃了 SYN(防火墙、accept 队列满、路由)。",
            "action": "检查对端端口是否可达;看定时器列中的重传次数。",
        },
        S.SYN_RECV: {
            "role": "建立中:监听端口收到 SYN(入站)",
            "meaning": "请求套接字:已收到 SYN 并回复 SYN-ACK,等待最后的 ACK。",
            "waits": "客户端完成握手的 ACK",
            "next": "连接以 ESTABLISHED 状态进入监听套接字的 accept 队列",
            "normal": "每个监听端口短暂存在少量。",
            "problem": "大量堆积:SYN 洪水,或客户端从不回 ACK。tcp_syncookies=1 时,SYN 队列溢出后"
            "内核改用 cookie 应答。",
            "action": "检查 tcp_syncookies 和 tcp_max_syn_backlog;查看持有它们的对端。",
        },
        S.FIN_WAIT1: {
            "role": "主动关闭方:本机先关闭",
            "meaning": "本机已发送 FIN,等待对端确认。",
            "waits": "对我方 FIN 的 ACK",
            "next": "收到 ACK 进入 FIN_WAIT2;先收到对端 FIN 则进入 CLOSING;两者都到则进入 TIME_WAIT",
            "normal": "持续约一个往返时间。",
            "problem": "长时间停留(定时器 on 且有重传):对端已消失或其接收窗口已满,FIN 发不出去。",
            "action": "查看 wqueue(FIN 之前未发送的数据)和重传次数。",
        },
        S.FIN_WAIT2: {
            "role": "主动关闭方:本机先关闭",
            "meaning": "我方 FIN 已被确认;对端还没有发送它的 FIN。",
            "waits": "对端的 FIN(对端应用必须调用 close())",
            "next": "收到对端 FIN 后进入 TIME_WAIT",
            "normal": "对端发送剩余数据期间,短暂存在。",
            "problem": "堆积说明对端一直不关闭。如果本机应用已经关闭(孤儿套接字),等待时间受 "
            "tcp_fin_timeout 限制;如果只调用了 shutdown(SHUT_WR) 且仍持有套接字,则没有任何定时器。",
            "action": "查明对端为何不关闭;tcp_fin_timeout 只限制孤儿套接字。",
        },
        S.TIME_WAIT: {
            "role": "主动关闭方:本机先关闭",
            "meaning": "双方 FIN 已交换,最后的 ACK 已发出。套接字保留 60 秒(TCP_TIMEWAIT_LEN,"
            "固定常量),让本连接迟到的报文消亡,并在对端重传 FIN 时能重发最后的 ACK。",
            "waits": "60 秒定时器到期(没有 sysctl 能改变它;tcp_fin_timeout 也不能)",
            "next": "套接字消失;其四元组(以及通往该目的地的本地端口)可以再次使用",
            "normal": "先关闭的一方总会有;每个关闭的连接保留 60 秒。",
            "problem": "当某个(源、目的、目的端口)元组占用了大部分临时端口,或达到 "
            "tcp_max_tw_buckets(TCPTimeWaitOverflow 增长)时。",
            "action": "复用连接(keep-alive、连接池)。对出站连接,tcp_tw_reuse=1 允许 connect() 复用"
            "进入 TIME_WAIT 超过 tcp_tw_reuse_delay 且使用了时间戳的连接。更多源 IP 或目的端口可扩大"
            "端口空间。tcp_tw_recycle 已不存在(Linux 4.12 删除)。",
        },
        S.CLOSE: {
            "role": "已关闭:无连接",
            "meaning": "套接字未连接(已绑定或已中止)。",
            "waits": "无",
            "next": "等待应用使用或关闭它",
            "normal": "少量存在是正常的。",
            "problem": "很少成为问题。",
            "action": "无需处理。",
        },
        S.CLOSE_WAIT: {
            "role": "被动关闭方:对端先关闭",
            "meaning": "对端发送了 FIN,内核已确认。本机应用还没有调用 close()。",
            "waits": "本机应用调用 close()(没有定时器:可能永远等待)",
            "next": "close() 发出我方 FIN,套接字进入 LAST_ACK",
            "normal": "只存在于读到文件结束和调用 close() 之间的瞬间。",
            "problem": "任何堆积,或跨多次轮询仍存在的 CLOSE_WAIT:应用泄漏套接字(某条代码路径从不关闭)。"
            "rqueue 中有未读数据说明它也停止了读取。",
            "action": "找到所属进程(已显示 pid)和不关闭的代码路径。重启进程可以释放它们;任何 sysctl 都不能。",
        },
        S.LAST_ACK: {
            "role": "被动关闭方:对端先关闭",
            "meaning": "双方都已发送 FIN;本机等待对自己 FIN 的确认。",
            "waits": "对端最后的 ACK",
            "next": "套接字消失(被动关闭方不会进入 TIME_WAIT)",
            "normal": "持续约一个往返时间。",
            "problem": "长时间停留并重传:对端发出 FIN 后就消失了。",
            "action": "通常无需处理;FIN 会重传,之后套接字被丢弃。",
        },
        S.LISTEN: {
            "role": "监听中:接受入站连接",
            "meaning": "监听套接字。rqueue 是当前 accept 队列长度,wqueue 是其上限"
            "(listen() backlog 与 somaxconn 的较小值)。",
            "waits": "SYN,以及应用 accept() 队列中的连接",
            "next": "新连接在此排队直到被 accept()",
            "normal": "总是存在,accept 队列接近 0。",
            "problem": "队列达到上限:应用 accept 太慢,新连接被丢弃(ListenOverflows 增长)。",
            "action": "让应用更快地 accept,或调大 backlog 和 somaxconn。",
        },
        S.CLOSING: {
            "role": "主动关闭方,同时关闭",
            "meaning": "双方几乎同时发送了 FIN;我方 FIN 尚未被确认。",
            "waits": "对我方 FIN 的 ACK",
            "next": "TIME_WAIT",
            "normal": "少见且短暂。",
            "problem": "长时间停留:我方 FIN 的 ACK 丢失,FIN 被重传。",
            "action": "通常无需处理。",
        },
    },
}

#: Phrases used by the explainer, with placeholders.
PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "this_host": "this host",
        "peer": "peer",
        "active": "active closer",
        "passive": "passive closer",
        "inbound": "inbound (the peer connected to a listening port here)",
        "outbound": "outbound (this host connected out)",
        "unknown_dir": "direction unknown",
        "step_done": "done",
        "step_wait": "waiting",
        "step_next": "next",
        "now": "now: {state}",
        "happened": "Already happened: {steps}.",
        "nothing_happened": "No FIN has been sent by either side.",
        "timer_none": "No timer runs.",
        "timer_tw": "TIME_WAIT timer: {left} of 60 s left; entered TIME_WAIT {ago} ago.",
        "timer_fw2_mini": "Orphaned FIN_WAIT2: {left} left, bounded by tcp_fin_timeout "
        "({fin_timeout} s) or TCP_LINGER2.",
        "timer_fw2_long": "Orphaned FIN_WAIT2 with tcp_fin_timeout above 60 s: {left} on the "
        "keepalive-slot timer, then it becomes a minisocket for the rest.",
        "timer_fw2_open": "No timer: the application still holds this socket (it called "
        "shutdown(SHUT_WR), not close()), so FIN_WAIT2 can last forever.",
        "timer_keepalive": "Keepalive timer: next probe in {left}; {retrans} unanswered probes.",
        "timer_retrans": "Retransmit timer: {left}; {retrans} retransmissions so far.",
        "timer_syn": "SYN-ACK retransmit timer: {left}; {retrans} retransmissions.",
        "timer_persist": "Zero-window probe timer: the peer's receive window is 0; {left}, "
        "{retrans} probes.",
        "timer_cw": "No timer: CLOSE_WAIT lasts until the application calls close().",
        "reuse_inbound": "Reuse: tcp_tw_reuse does not help here: it acts only in connect(), "
        "which picks ephemeral ports, not this listening port. A new SYN from the same client "
        "port can take this TIME_WAIT over (the kernel accepts it when its sequence/timestamp "
        "is newer).",
        "reuse_outbound": "Reuse: connect() may take over this 4-tuple when tcp_tw_reuse allows "
        "it (now {reuse}: {reuse_meaning}), the connection used TCP timestamps "
        "(tcp_timestamps={ts}) and it entered TIME_WAIT at least {delay} ms ago "
        "({ready}).",
        "reuse_off": "0 = off",
        "reuse_on": "1 = on for every destination",
        "reuse_loop": "2 = loopback destinations only",
        "reuse_ready": "it did",
        "reuse_not_ready": "not yet",
        "orphan": "Orphan: the application has closed its descriptor; only the kernel holds it.",
        "owner": "Owner: {process}[{pid}] ({user}).",
        "no_owner": "Owner: none (TIME_WAIT and request sockets have no inode, so no process).",
        "unknown_owner": "Owner: unknown (needs root to read other users' processes).",
        "unknown_owner_root": "Owner: unknown (no process visible from here holds it: another "
        "PID namespace, or it was just closed).",
        "queues": "Queues: rqueue {rq} bytes unread, wqueue {wq} bytes unsent.",
        "cw_queue": "rqueue {rq}: the peer's FIN counts as one byte until the application reads "
        "end-of-file, so {rq} means {meaning}.",
        "cw_eof_unread": "the application has not even read the end-of-file yet",
        "cw_data_unread": "{data} bytes of data are unread as well",
        "cw_eof_read": "the application read end-of-file but did not close()",
        "listen_queue": "Accept queue: {rq} waiting of {wq} allowed.",
        "peer_summary": "{count} {state} {prep} {peer}, {closer}",
        "to": "to",
        "from": "from",
        "closer_us": "this host closed first",
        "closer_peer": "the peer closed first; this host has not closed",
        "closer_none": "nobody has closed",
        "per_s": "~{rate}/s",
        "tuple_share": "{pct}% of that tuple's ports",
        "label_waits": "Waiting for",
        "label_next": "Next",
        "label_normal": "Normal",
        "label_problem": "A problem when",
        "label_action": "What to do",
        "colon": ": ",
        "stop": ".",
        "tcp_info": "tcp_info: rtt {rtt} ms (±{rttvar}), rto {rto} ms, cwnd {cwnd}, {unacked} "
        "segments unacked, {retrans} retransmitted in total; {acked} bytes acked, {received} "
        "received; last data sent {sent} ago, received {recv} ago.",
    },
    "zh": {
        "this_host": "本机",
        "peer": "对端",
        "active": "主动关闭方",
        "passive": "被动关闭方",
        "inbound": "入站(对端连接到本机的监听端口)",
        "outbound": "出站(本机主动连出)",
        "unknown_dir": "方向未知",
        "step_done": "已完成",
        "step_wait": "等待中",
        "step_next": "下一步",
        "now": "当前:{state}",
        "happened": "已经发生:{steps}。",
        "nothing_happened": "双方都还没有发送 FIN。",
        "timer_none": "没有定时器在运行。",
        "timer_tw": "TIME_WAIT 定时器:60 秒中还剩 {left};{ago} 前进入 TIME_WAIT。",
        "timer_fw2_mini": "孤儿 FIN_WAIT2:还剩 {left},受 tcp_fin_timeout({fin_timeout} 秒)"
        "或 TCP_LINGER2 限制。",
        "timer_fw2_long": "孤儿 FIN_WAIT2,tcp_fin_timeout 大于 60 秒:keepalive 槽定时器还剩 {left},"
        "之后转为 minisocket 等待剩余时间。",
        "timer_fw2_open": "没有定时器:应用仍持有该套接字(调用的是 shutdown(SHUT_WR) 而不是 close()),"
        "FIN_WAIT2 可以永远持续。",
        "timer_keepalive": "Keepalive 定时器:下次探测在 {left} 后;已有 {retrans} 次未应答的探测。",
        "timer_retrans": "重传定时器:{left};目前已重传 {retrans} 次。",
        "timer_syn": "SYN-ACK 重传定时器:{left};已重传 {retrans} 次。",
        "timer_persist": "零窗口探测定时器:对端接收窗口为 0;{left},已探测 {retrans} 次。",
        "timer_cw": "没有定时器:CLOSE_WAIT 会一直持续到应用调用 close()。",
        "reuse_inbound": "复用:tcp_tw_reuse 在这里没有帮助:它只在 connect() 中起作用,而 connect() "
        "选择的是临时端口,不是这个监听端口。来自同一客户端端口的新 SYN 可以接管这个 TIME_WAIT"
        "(当其序号/时间戳更新时内核会接受)。",
        "reuse_outbound": "复用:当 tcp_tw_reuse 允许(当前 {reuse}:{reuse_meaning})、该连接使用了"
        "TCP 时间戳(tcp_timestamps={ts})且进入 TIME_WAIT 已至少 {delay} 毫秒({ready})时,"
        "connect() 可以接管这个四元组。",
        "reuse_off": "0 = 关闭",
        "reuse_on": "1 = 对所有目的地开启",
        "reuse_loop": "2 = 仅回环目的地",
        "reuse_ready": "已满足",
        "reuse_not_ready": "尚未满足",
        "orphan": "孤儿:应用已关闭其描述符;只有内核还持有它。",
        "owner": "所属进程:{process}[{pid}]({user})。",
        "no_owner": "所属进程:无(TIME_WAIT 和请求套接字没有 inode,因此没有进程)。",
        "unknown_owner": "所属进程:未知(读取其他用户的进程需要 root)。",
        "unknown_owner_root": "所属进程:未知(从这里看不到持有它的进程:在另一个 PID 命名空间中,或刚被关闭)。",
        "queues": "队列:rqueue 有 {rq} 字节未读,wqueue 有 {wq} 字节未发送。",
        "cw_queue": "rqueue {rq}:在应用读到文件结束之前,对端的 FIN 计为 1 字节,所以 {rq} 表示"
        "{meaning}。",
        "cw_eof_unread": "应用甚至还没有读到文件结束",
        "cw_data_unread": "还有 {data} 字节数据未读",
        "cw_eof_read": "应用已读到文件结束但没有调用 close()",
        "listen_queue": "accept 队列:{rq} 个等待中,上限 {wq}。",
        "peer_summary": "{count} 个 {state} {prep} {peer},{closer}",
        "to": "连往",
        "from": "来自",
        "closer_us": "本机先关闭",
        "closer_peer": "对端先关闭;本机尚未关闭",
        "closer_none": "双方都未关闭",
        "per_s": "约 {rate}/秒",
        "tuple_share": "占该元组端口的 {pct}%",
        "label_waits": "等待",
        "label_next": "下一步",
        "label_normal": "正常情况",
        "label_problem": "何时是问题",
        "label_action": "怎么做",
        "colon": ":",
        "stop": "。",
        "tcp_info": "tcp_info:rtt {rtt} 毫秒(±{rttvar}),rto {rto} 毫秒,cwnd {cwnd},{unacked} 个报文段"
        "未确认,累计重传 {retrans} 次;已确认 {acked} 字节,已接收 {received} 字节;最后发送数据在 {sent} "
        "前,最后接收数据在 {recv} 前。",
    },
}

#: Advisor findings: title / evidence / why / action templates per finding id.
FINDINGS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "close_wait_leak": {
            "title": "CLOSE_WAIT piling up{owner_part}",
            "evidence": "{count} CLOSE_WAIT sockets; {owned} owned by {owner}; {aged} open "
            "{aged_s} s or longer (since twtop first saw them); {unread} with unread data",
            "why": "CLOSE_WAIT ends only when the application calls close(); the peer already "
            "closed. A pile is a socket leak in the application, not a kernel setting.",
            "action": "Fix the code path in {owner} that never closes (error paths, unconsumed "
            "response bodies, pools that drop without closing). Restarting it releases them.",
        },
        "tw_port_pressure": {
            "title": "Ephemeral ports running out towards {dst}:{dport}",
            "evidence": "{used} of {available} ports used from {src} ({pct}%), {tw} in TIME_WAIT, "
            "~{rate} new TIME_WAIT/s, {eta}",
            "why": "Each outbound connection to one (src, dst, dport) needs its own local port, "
            "and a TIME_WAIT keeps it for 60 s. The limit is per tuple: ~{sustain} new "
            "connections/s with this range.",
            "action": "Reuse connections (HTTP keep-alive, connection pools). sysctl -w "
            "net.ipv4.tcp_tw_reuse=1 lets connect() reuse TIME_WAITs older than "
            "tcp_tw_reuse_delay (timestamps must be on). Add source IPs or destination ports; "
            "set IP_BIND_ADDRESS_NO_PORT when binding a source IP. Widening "
            "ip_local_port_range helps. tcp_fin_timeout does not shorten TIME_WAIT, and "
            "tcp_tw_recycle was removed in Linux 4.12.",
        },
        "tw_server_side": {
            "title": "This host closes inbound connections first ({count} inbound TIME_WAIT)",
            "evidence": "{count} TIME_WAIT on connections this host accepted ({share}% of all "
            "TIME_WAIT)",
            "why": "The side that closes first keeps the TIME_WAIT. A server that closes "
            "(HTTP/1.0, 'Connection: close', idle timeouts) holds them instead of its clients. "
            "They cost memory (~{mem_mb} MB) but no ephemeral ports on this host.",
            "action": "Let clients close first: enable keep-alive and avoid 'Connection: close' "
            "from the server. tcp_tw_reuse does not apply to inbound connections.",
        },
        "tw_buckets_overflow": {
            "title": "tcp_max_tw_buckets reached: TIME_WAITs are being dropped",
            "evidence": "TCPTimeWaitOverflow +{rate}/s (total {total}); {tw} TIME_WAIT of "
            "max {max}",
            "why": "Past the limit the kernel closes sockets without TIME_WAIT, silently (no "
            "log line despite ip-sysctl.rst). Late segments may then hit a reused 4-tuple.",
            "action": "Reduce the churn first (reuse connections). Raise the limit only with "
            "memory to spare: sysctl -w net.ipv4.tcp_max_tw_buckets=N.",
        },
        "tw_reuse_off": {
            "title": "Outbound TIME_WAITs pile up and tcp_tw_reuse={reuse} does not help them",
            "evidence": "{count} outbound TIME_WAIT to non-loopback destinations; tcp_tw_reuse="
            "{reuse}",
            "why": "tcp_tw_reuse=2 (the default) only reuses TIME_WAITs towards loopback; 0 "
            "never. It acts only in connect(), never on inbound connections.",
            "action": "If ports get tight: sysctl -w net.ipv4.tcp_tw_reuse=1 (needs "
            "tcp_timestamps on).",
        },
        "timestamps_off": {
            "title": "tcp_timestamps=0: TIME_WAIT reuse is impossible",
            "evidence": "tcp_timestamps=0 with {count} outbound TIME_WAIT",
            "why": "tcp_tw_reuse needs timestamps from the old connection to tell its segments "
            "from the new one's.",
            "action": "sysctl -w net.ipv4.tcp_timestamps=1 (default).",
        },
        "narrow_port_range": {
            "title": "Narrow ephemeral port range ({available} ports)",
            "evidence": "ip_local_port_range {low}-{high}, {reserved} reserved",
            "why": "Each (src, dst, dport) tuple can hold at most this many live + TIME_WAIT "
            "connections.",
            "action": 'sysctl -w net.ipv4.ip_local_port_range="32768 60999" or wider '
            "(start and end of different parity).",
        },
        "reserved_in_range": {
            "title": "{reserved} reserved ports inside the ephemeral range",
            "evidence": "ip_local_reserved_ports={value} inside {low}-{high}",
            "why": "connect() and bind(0) skip reserved ports, so each tuple has fewer.",
            "action": "Keep reserved ports outside ip_local_port_range if you can.",
        },
        "listen_overflow": {
            "title": "Accept queue overflowing{where}",
            "evidence": "ListenOverflows +{rate}/s, ListenDrops +{drops}/s{queue}",
            "why": "The application does not accept() fast enough; new connections are dropped "
            "and clients retry after a timeout.",
            "action": "Accept faster (more workers), or raise the listen() backlog and "
            "net.core.somaxconn.",
        },
        "orphans_high": {
            "title": "Orphaned sockets near tcp_max_orphans",
            "evidence": "{orphans} orphans (all namespaces) of max {max}",
            "why": "Past the limit the kernel resets orphaned connections ('too many orphaned "
            "sockets').",
            "action": "Find who closes with data still unacknowledged; raise tcp_max_orphans "
            "only with memory to spare.",
        },
        "fin_wait2_pile": {
            "title": "FIN_WAIT2 piling up: peers that never close",
            "evidence": "{count} FIN_WAIT2, most to {peer} ({peer_count}); tcp_fin_timeout="
            "{fin_timeout}",
            "why": "This host closed and waits for the peer's FIN. Orphans are bounded by "
            "tcp_fin_timeout; sockets the application still holds after shutdown() are not.",
            "action": "Find why {peer} keeps its side open.",
        },
        "syn_recv_pile": {
            "title": "SYN_RECV piling up ({count})",
            "evidence": "{count} half-open connections; tcp_syncookies={cookies}, "
            "tcp_max_syn_backlog={backlog}",
            "why": "Clients send SYNs but do not complete the handshake: a SYN flood, or a "
            "path that loses the final ACK.",
            "action": "Keep tcp_syncookies=1; look at the peers holding them.",
        },
        "tw_recycle_on": {
            "title": "tcp_tw_recycle=1 breaks clients",
            "evidence": "tcp_tw_recycle={value}",
            "why": "It drops SYNs from clients behind NAT, and since Linux 4.10 from any peer "
            "(per-connection timestamp offsets). It was removed in 4.12.",
            "action": "sysctl -w net.ipv4.tcp_tw_recycle=0.",
        },
    },
    "zh": {
        "close_wait_leak": {
            "title": "CLOSE_WAIT 正在堆积{owner_part}",
            "evidence": "{count} 个 CLOSE_WAIT;{owned} 个属于 {owner};{aged} 个已存在 {aged_s} 秒以上"
            "(自 twtop 首次看到起);{unread} 个有未读数据",
            "why": "只有应用调用 close() 后 CLOSE_WAIT 才会结束;对端已经关闭。堆积是应用泄漏套接字,"
            "不是内核参数问题。",
            "action": "修复 {owner} 中从不关闭的代码路径(错误分支、未读完的响应体、丢弃而不关闭的连接池)。"
            "重启进程可以释放它们。",
        },
        "tw_port_pressure": {
            "title": "通往 {dst}:{dport} 的临时端口即将耗尽",
            "evidence": "从 {src} 已用 {used}/{available} 个端口({pct}%),{tw} 个处于 TIME_WAIT,"
            "每秒约新增 {rate} 个 TIME_WAIT,{eta}",
            "why": "通往同一(源、目的、目的端口)元组的每个出站连接都需要一个独立的本地端口,"
            "TIME_WAIT 会占用它 60 秒。限制是按元组计算的:在此端口范围下约每秒 {sustain} 个新连接。",
            "action": "复用连接(HTTP keep-alive、连接池)。sysctl -w net.ipv4.tcp_tw_reuse=1 允许 "
            "connect() 复用超过 tcp_tw_reuse_delay 的 TIME_WAIT(必须开启时间戳)。增加源 IP 或目的端口;"
            "绑定源 IP 时设置 IP_BIND_ADDRESS_NO_PORT。扩大 ip_local_port_range 也有帮助。"
            "tcp_fin_timeout 不会缩短 TIME_WAIT,tcp_tw_recycle 已在 Linux 4.12 删除。",
        },
        "tw_server_side": {
            "title": "本机先关闭入站连接({count} 个入站 TIME_WAIT)",
            "evidence": "本机接受的连接上有 {count} 个 TIME_WAIT(占全部 TIME_WAIT 的 {share}%)",
            "why": "先关闭的一方保留 TIME_WAIT。服务器主动关闭(HTTP/1.0、'Connection: close'、空闲超时)"
            "时,TIME_WAIT 留在服务器而不是客户端。它们占用内存(约 {mem_mb} MB),但不占用本机的临时端口。",
            "action": "让客户端先关闭:开启 keep-alive,服务器不要发送 'Connection: close'。"
            "tcp_tw_reuse 对入站连接不起作用。",
        },
        "tw_buckets_overflow": {
            "title": "达到 tcp_max_tw_buckets:TIME_WAIT 正被丢弃",
            "evidence": "TCPTimeWaitOverflow 每秒 +{rate}(累计 {total});{tw} 个 TIME_WAIT,上限 {max}",
            "why": "超过上限后,内核直接关闭套接字而不进入 TIME_WAIT,且没有任何日志(与 ip-sysctl.rst "
            "的说法相反)。迟到的报文可能落到被复用的四元组上。",
            "action": "先降低连接的创建频率(复用连接)。只有内存充足时才调大上限:"
            "sysctl -w net.ipv4.tcp_max_tw_buckets=N。",
        },
        "tw_reuse_off": {
            "title": "出站 TIME_WAIT 在堆积,而 tcp_tw_reuse={reuse} 对它们无效",
            "evidence": "{count} 个通往非回环地址的出站 TIME_WAIT;tcp_tw_reuse={reuse}",
            "why": "tcp_tw_reuse=2(默认)只复用通往回环地址的 TIME_WAIT;0 从不复用。它只在 connect() 中"
            "起作用,对入站连接无效。",
            "action": "如果端口紧张:sysctl -w net.ipv4.tcp_tw_reuse=1(需要开启 tcp_timestamps)。",
        },
        "timestamps_off": {
            "title": "tcp_timestamps=0:无法复用 TIME_WAIT",
            "evidence": "tcp_timestamps=0,有 {count} 个出站 TIME_WAIT",
            "why": "tcp_tw_reuse 需要旧连接的时间戳来区分新旧连接的报文。",
            "action": "sysctl -w net.ipv4.tcp_timestamps=1(默认值)。",
        },
        "narrow_port_range": {
            "title": "临时端口范围过窄({available} 个端口)",
            "evidence": "ip_local_port_range {low}-{high},保留 {reserved} 个",
            "why": "每个(源、目的、目的端口)元组最多只能同时有这么多活动连接加 TIME_WAIT。",
            "action": 'sysctl -w net.ipv4.ip_local_port_range="32768 60999" 或更宽'
            "(起止端口奇偶性不同)。",
        },
        "reserved_in_range": {
            "title": "临时端口范围内有 {reserved} 个保留端口",
            "evidence": "ip_local_reserved_ports={value} 位于 {low}-{high} 内",
            "why": "connect() 和 bind(0) 都会跳过保留端口,每个元组可用的端口因此更少。",
            "action": "尽量把保留端口放在 ip_local_port_range 之外。",
        },
        "listen_overflow": {
            "title": "accept 队列溢出{where}",
            "evidence": "ListenOverflows 每秒 +{rate},ListenDrops 每秒 +{drops}{queue}",
            "why": "应用 accept() 不够快;新连接被丢弃,客户端超时后重试。",
            "action": "加快 accept(更多工作线程),或调大 listen() backlog 和 net.core.somaxconn。",
        },
        "orphans_high": {
            "title": "孤儿套接字接近 tcp_max_orphans",
            "evidence": "{orphans} 个孤儿套接字(所有命名空间),上限 {max}",
            "why": "超过上限后内核会重置孤儿连接('too many orphaned sockets')。",
            "action": "找出在数据未被确认时就关闭的程序;只有内存充足时才调大 tcp_max_orphans。",
        },
        "fin_wait2_pile": {
            "title": "FIN_WAIT2 正在堆积:对端从不关闭",
            "evidence": "{count} 个 FIN_WAIT2,最多的对端 {peer}({peer_count} 个);tcp_fin_timeout="
            "{fin_timeout}",
            "why": "本机已关闭,正在等待对端的 FIN。孤儿套接字受 tcp_fin_timeout 限制;应用在 shutdown() "
            "后仍持有的套接字则不受限制。",
            "action": "查明 {peer} 为何不关闭它那一端。",
        },
        "syn_recv_pile": {
            "title": "SYN_RECV 正在堆积({count} 个)",
            "evidence": "{count} 个半开连接;tcp_syncookies={cookies},tcp_max_syn_backlog={backlog}",
            "why": "客户端发送 SYN 却不完成握手:SYN 洪水,或者最后的 ACK 在路径上丢失。",
            "action": "保持 tcp_syncookies=1;查看持有它们的对端。",
        },
        "tw_recycle_on": {
            "title": "tcp_tw_recycle=1 会导致客户端连接失败",
            "evidence": "tcp_tw_recycle={value}",
            "why": "它会丢弃 NAT 后面客户端的 SYN,而自 Linux 4.10 起会丢弃任何对端的 SYN"
            "(每连接时间戳偏移)。它已在 4.12 删除。",
            "action": "sysctl -w net.ipv4.tcp_tw_recycle=0。",
        },
    },
}

SEVERITY_WORDS = {
    "en": {"info": "info", "warning": "warning", "critical": "critical"},
    "zh": {"info": "提示", "warning": "警告", "critical": "严重"},
}

ETA_WORDS = {
    "en": {"now": "no port left now", "eta": "full in {t} at this rate", "safe": "not at risk"},
    "zh": {"now": "端口已耗尽", "eta": "按此速率 {t} 后耗尽", "safe": "没有风险"},
}

LABELS = {
    "en": {"evidence": "evidence", "why": "why", "action": "do"},
    "zh": {"evidence": "证据", "why": "原因", "action": "建议"},
}

# --- Findings and words of the rule-per-function advisor (issue 8), en and zh -------------------
FINDINGS["en"].update(
    {
        "all_clear": {
            "title": "All clear: no finding",
            "evidence": "{total} TCP sockets; {rules} rules checked; {sampling}",
            "why": "No rule saw a sign of trouble in these numbers. Rules that need two samples "
            "(counter rates, CLOSE_WAIT ages) only fire when the sample window is above 0.",
            "action": "Nothing to do.",
        },
        "accept_stopped": {
            "title": "The application on {where} stopped calling accept()",
            "evidence": "{cw} CLOSE_WAIT and {est} ESTABLISHED connections wait in the accept "
            "queue of {where} ({queued} queued, backlog {backlog}); listener: {owner}",
            "why": "The kernel completed these connections but the application never accepted "
            "them: no file descriptor exists yet (inode 0), so they are neither orphans nor a "
            "CLOSE_WAIT leak. Their peers have already closed. The queue holds at most backlog "
            "+ 1; past that, new connections are dropped (ListenOverflows).",
            "action": "Find out why the listener no longer accepts: a blocked or dead accept "
            "loop, every worker busy, a stuck thread. Restarting it releases the queue; a "
            "larger backlog only hides the problem.",
        },
        "syn_queue": {
            "title": "Half-open connections pile up on {where}",
            "evidence": "{syn} SYN_RECV on {where}, backlog {backlog} ({pct}%); SyncookiesSent "
            "+{cookies}/s, TCPReqQFullDoCookies +{qfull}/s, ListenDrops +{drops}/s; "
            "tcp_syncookies={syncookies}{syn_backlog}",
            "why": "A listener's SYN queue is full when it holds more than its backlog = "
            "min(listen() backlog, net.core.somaxconn). With tcp_syncookies=1 the kernel then "
            "answers with cookies and keeps no request socket, so a flood shows at most about "
            "backlog SYN_RECV and the counters tell the rest. Clients send SYNs and do not "
            "finish the handshake: a SYN flood, or a path that loses the final ACK.",
            "action": "Keep tcp_syncookies=1. Raise the listen() backlog (and somaxconn) if real "
            "clients wait; look at the peers holding the SYN_RECV. tcp_max_syn_backlog is read "
            "only when tcp_syncookies=0.",
        },
        "orphans_pressure": {
            "title": "Orphaned sockets near tcp_max_orphans",
            "evidence": "{orphans} orphans (global: all namespaces) of tcp_max_orphans {max} "
            "(global) = {pct}%; TCPAbortOnMemory +{abort}/s",
            "why": "Orphans are connections the application closed that still have data or a "
            "FIN to deliver. The kernel resets them ('too many orphaned sockets', "
            "TCPAbortOnMemory) before the limit: an orphan idle for long, or after a soft ICMP "
            "error, counts double or quadruple, so kills can start at 1/2 or 1/4 of it.",
            "action": "Find who closes with data still unacknowledged (FIN_WAIT1, LAST_ACK, "
            "CLOSING with inode 0). Raise tcp_max_orphans only with memory to spare.",
        },
    }
)
FINDINGS["zh"].update(
    {
        "all_clear": {
            "title": "一切正常:没有发现问题",
            "evidence": "{total} 个 TCP 套接字;检查了 {rules} 条规则;{sampling}",
            "why": "没有任何规则在这些数字中发现问题。需要两次采样的规则(计数器速率、CLOSE_WAIT "
            "存在时长)只有在采样间隔大于 0 时才会触发。",
            "action": "无需处理。",
        },
        "accept_stopped": {
            "title": "{where} 上的应用已停止调用 accept()",
            "evidence": "{where} 的全连接队列中有 {cw} 个 CLOSE_WAIT 和 {est} 个 ESTABLISHED 连接等待"
            "(已排队 {queued},backlog {backlog});监听者:{owner}",
            "why": "内核已完成这些连接的握手,但应用从未 accept():它们还没有文件描述符(inode 为 0),"
            "所以既不是孤儿套接字,也不是 CLOSE_WAIT 泄漏。对端已经关闭。队列最多容纳 backlog + 1 个;"
            "超过后新连接被丢弃(ListenOverflows)。",
            "action": "查明监听进程为何不再 accept:accept 循环阻塞或已退出、所有工作线程都在忙、"
            "线程卡死。重启它可以释放队列;调大 backlog 只会掩盖问题。",
        },
        "syn_queue": {
            "title": "{where} 上的半连接正在堆积",
            "evidence": "{where} 上有 {syn} 个 SYN_RECV,backlog {backlog}({pct}%);SyncookiesSent "
            "每秒 +{cookies},TCPReqQFullDoCookies 每秒 +{qfull},ListenDrops 每秒 +{drops};"
            "tcp_syncookies={syncookies}{syn_backlog}",
            "why": "当半连接队列超过监听者的 backlog = min(listen() 的 backlog, net.core.somaxconn)"
            "时即为满。tcp_syncookies=1 时内核随后用 SYN cookie 应答,不再创建请求套接字,所以洪水时最多"
            "只能看到约 backlog 个 SYN_RECV,其余要看计数器。客户端发送 SYN 却不完成握手:SYN 洪水,"
            "或者最后的 ACK 在路径上丢失。",
            "action": "保持 tcp_syncookies=1。如果是正常客户端在等待,调大 listen() 的 backlog"
            "(以及 somaxconn);查看持有 SYN_RECV 的对端。只有 tcp_syncookies=0 时才会用到 "
            "tcp_max_syn_backlog。",
        },
        "orphans_pressure": {
            "title": "孤儿套接字接近 tcp_max_orphans",
            "evidence": "{orphans} 个孤儿套接字(全局:所有命名空间),tcp_max_orphans 为 {max}"
            "(全局)= {pct}%;TCPAbortOnMemory 每秒 +{abort}",
            "why": "孤儿套接字是应用已经关闭、但仍有数据或 FIN 要发送的连接。内核在达到上限之前就会重置它们"
            "('too many orphaned sockets',TCPAbortOnMemory):长时间空闲或收到软 ICMP 错误的孤儿"
            "按两倍或四倍计算,所以在上限的 1/2 或 1/4 时就可能开始被杀掉。",
            "action": "找出在数据未被确认时就关闭的程序(inode 为 0 的 FIN_WAIT1、LAST_ACK、CLOSING)。"
            "只有内存充足时才调大 tcp_max_orphans。",
        },
    }
)

#: Words for values the advisor and reports cannot state as a number.
VALUE_WORDS = {
    "en": {
        "unknown": "unknown",
        "global": "global",
        "steady": "steady at this rate",
        "rates_over": "rates over {s} s",
        "one_sample": "one sample: rules that need rates or ages could not fire",
        "owner_of": "owned by {owner}",
        "max_syn_backlog": ", tcp_max_syn_backlog={value} (read because tcp_syncookies=0)",
    },
    "zh": {
        "unknown": "未知",
        "global": "全局",
        "steady": "按此速率保持稳定",
        "rates_over": "速率基于 {s} 秒",
        "one_sample": "仅一次采样:需要速率或时长的规则无法触发",
        "owner_of": "属于 {owner}",
        "max_syn_backlog": ",tcp_max_syn_backlog={value}(因 tcp_syncookies=0 而生效)",
    },
}

#: Why a socket's owner is unknown: the true reason, never "?".
OWNER_REASONS = {
    "en": {
        "not_root": "owner unknown: reading other users' processes needs root",
        "pid_namespace": "owner unknown: no process visible here holds it (another PID "
        "namespace, e.g. a container)",
        "not_looked_up": "owner not looked up yet (the process table is rescanned at most every "
        "few seconds)",
        "stale_or_ns": "owner unknown: not in /proc at the last scan (another PID namespace, or "
        "opened since that scan)",
    },
    "zh": {
        "not_root": "属主未知:读取其他用户的进程需要 root",
        "pid_namespace": "属主未知:此处可见的进程都不持有它(另一个 PID 命名空间,例如容器)",
        "not_looked_up": "属主尚未查找(进程表最多每隔几秒重新扫描一次)",
        "stale_or_ns": "属主未知:上次扫描时 /proc 中没有(另一个 PID 命名空间,或在那次扫描之后才打开)",
    },
}

# --- `twtop explain` with no state: one line per state (kernel-facts 2, 4, 7b), en and zh ----------
STATE_BRIEF: dict[str, dict[S, str]] = {
    "en": {
        S.ESTABLISHED: "open: data flows both ways",
        S.SYN_SENT: "connect() sent a SYN; waits for the SYN-ACK (outbound)",
        S.SYN_RECV: "a SYN arrived on a listener; waits for the client's ACK",
        S.FIN_WAIT1: "this host closed; its FIN is unsent or not acknowledged yet",
        S.FIN_WAIT2: "our FIN was acknowledged; waits for the peer's FIN",
        S.TIME_WAIT: "both FINs exchanged; the closer waits out a fixed 60 s timer",
        S.CLOSE: "not connected (a bound or aborted socket)",
        S.CLOSE_WAIT: "the peer closed; the application here has not called close()",
        S.LAST_ACK: "we closed after the peer; waits for the ACK of our FIN",
        S.LISTEN: "a listening socket: accepts inbound connections",
        S.CLOSING: "both sides closed at once; waits for the ACK of our FIN",
    },
    "zh": {
        S.ESTABLISHED: "连接已建立：数据双向传输",
        S.SYN_SENT: "connect() 已发出 SYN，等待 SYN-ACK（出站）",
        S.SYN_RECV: "监听端口收到 SYN，等待客户端的 ACK",
        S.FIN_WAIT1: "本机已关闭，我方 FIN 尚未发出或尚未被确认",
        S.FIN_WAIT2: "我方 FIN 已被确认，等待对端的 FIN",
        S.TIME_WAIT: "双方 FIN 已交换；主动关闭方等待固定的 60 秒计时器到期",
        S.CLOSE: "未连接（已绑定或已中止的套接字）",
        S.CLOSE_WAIT: "对端已关闭，本机应用尚未调用 close()",
        S.LAST_ACK: "对端先关闭、本机随后关闭，等待对我方 FIN 的 ACK",
        S.LISTEN: "监听套接字：接受入站连接",
        S.CLOSING: "双方同时关闭，等待对我方 FIN 的 ACK",
    },
}

#: The last line of that list.
STATE_LIST_HINT = {
    "en": "twtop explain STATE: one state in full (e.g. time-wait, close-wait).",
    "zh": "twtop explain STATE：一个状态的完整说明（例如 time-wait、close-wait）。",
}
