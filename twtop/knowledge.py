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
            # 7b: not-yet-accepted sockets have inode 0 and a listener's address:port
            "meaning": "The connection is open and data can flow both ways. One without an "
            "owner (inode 0) on a listening port waits in the accept queue: the application "
            "has not called accept() for it yet.",
            "waits": "data, or a FIN from either side",
            "next": "whichever side calls close() first sends a FIN and becomes the active closer",
            "normal": "Always, for live connections.",
            "problem": "Only in numbers: thousands per peer can mean a leak of pooled "
            "connections; many without an owner on a listening port mean the application "
            "stopped calling accept().",
            "action": "Nothing, unless the count keeps growing for one peer or process.",
        },
        S.SYN_SENT: {
            "role": "opening: this host sent a SYN (outbound connect)",
            "meaning": "connect() sent a SYN and waits for the peer's SYN-ACK.",
            "waits": "the peer's SYN-ACK",
            "next": "ESTABLISHED on SYN-ACK; SYN retransmissions (timer 'on') then failure",
            # 7b: about one round trip, not "a few milliseconds"
            "normal": "For about one round trip per connect() (tens to hundreds of ms across "
            "regions).",
            "problem": "Many, or with retransmits: the peer or the path drops SYNs (firewall, "
            "routing, or a listener whose accept queue is full).",
            "action": "Check that the peer port is reachable; the timer column counts consecutive "
            "SYN timeouts.",
        },
        S.SYN_RECV: {
            "role": "opening: a SYN arrived on a listening port (inbound)",
            "meaning": "A request socket in the listener's SYN queue: SYN received, SYN-ACK sent, "
            "waiting for the client's final ACK.",
            "waits": "the client's ACK that completes the handshake",
            "next": "the connection moves to the listener's accept queue as ESTABLISHED (not yet "
            "accepted)",
            "normal": "Briefly, a few per listener.",
            # 5: "full" = above the listener's backlog; cookies then, no request socket
            "problem": "Piles: a SYN flood, or clients that never ACK. The SYN queue is full "
            "when it exceeds the listener's backlog, min(listen() backlog, somaxconn); then, "
            "with tcp_syncookies=1 (the default), the kernel answers with cookies and keeps no "
            "request socket, so a flood shows at most about that many SYN_RECV.",
            "action": "Keep tcp_syncookies=1; watch SyncookiesSent, TCPReqQFullDoCookies and "
            "ListenDrops; look at the peers holding them. tcp_max_syn_backlog matters only "
            "with tcp_syncookies=0.",
        },
        S.FIN_WAIT1: {
            "role": "ACTIVE closer: this host closed first",
            # 7b: the FIN is queued behind unsent data
            "meaning": "This host called close() or shutdown(SHUT_WR). Its FIN goes out after "
            "any data still queued (so it may not be sent yet) and waits for the peer's ACK.",
            "waits": "the peer's ACK of our FIN (and of any data before it)",
            "next": "FIN_WAIT2 on that ACK; CLOSING if the peer's FIN comes first; TIME_WAIT if "
            "both arrive together",
            "normal": "For about one round trip.",
            # 7b timer meanings; 5: orphans bounded by tcp_orphan_retries / tcp_max_orphans
            "problem": "Lingering. Timer 'on' with retransmits: the peer is not ACKing (it is "
            "gone, or the path drops segments). Timer 'persist': the peer's receive window is 0 "
            "(it stopped reading), so our data and FIN wait. Orphans (the application closed) "
            "are bounded by tcp_orphan_retries and tcp_max_orphans, not by tcp_fin_timeout.",
            "action": "Look at wqueue (bytes not yet acknowledged, plus 1 for the FIN), the timer "
            "kind and its count, and find why the peer stopped reading or answering.",
        },
        S.FIN_WAIT2: {
            "role": "ACTIVE closer: this host closed first",
            "meaning": "Our FIN was acknowledged; the peer has not sent its own FIN yet.",
            "waits": "the peer's FIN (the peer application must call close() or shutdown())",
            "next": "TIME_WAIT when the peer's FIN arrives",
            "normal": "While the peer finishes sending; briefly.",
            # 4: 2 x (value - 60 s) above 60 s; no timer when not orphaned; 7: counted in tw
            "problem": "Piles mean the peer never closes. If this host's application already "
            "closed (orphan), tcp_fin_timeout bounds the wait; above 60 s the wait is "
            "2 x (value - 60 s) in all (70 gives 20 s, 120 gives 120 s). If it only called "
            "shutdown(SHUT_WR) and still holds the socket, there is no timer at all. Orphaned "
            "FIN_WAIT2 minisockets count in TcpExtTW and sockstat 'tw' like TIME_WAIT.",
            "action": "Find why the peer keeps its side open; tcp_fin_timeout bounds orphans only.",
        },
        S.TIME_WAIT: {
            "role": "ACTIVE closer: this host closed first",
            # 4: TCP_TIMEWAIT_LEN, re-armed by some segments
            "meaning": "Both FINs were exchanged and our last ACK sent. The socket stays for 60 s "
            "(TCP_TIMEWAIT_LEN, a fixed constant) so late segments of this connection die "
            "and the last ACK can be resent if the peer's FIN is retransmitted; such a "
            "segment re-arms the 60 s.",
            "waits": "its 60 s timer (no sysctl changes it; tcp_fin_timeout does not)",
            "next": "the socket disappears; its 4-tuple (and its local port towards that "
            "destination) can be used again",
            # 7, 7b: the tw counters include FIN_WAIT2 minisockets
            "normal": "Always on the side that closes first; one per closed connection for 60 s. "
            "TcpExtTW and sockstat 'tw' also count orphaned FIN_WAIT2 minisockets, so they can "
            "exceed the TIME_WAIT count.",
            # 6: exhaustion is per tuple and only where reuse does not apply; 5, 7: buckets
            "problem": "When one (src, dst, dport) tuple holds most of its ephemeral ports and "
            "tcp_tw_reuse does not apply to it (connect() then fails with EADDRNOTAVAIL), or "
            "when tcp_max_tw_buckets is reached (TCPTimeWaitOverflow rises; FIN_WAIT2 "
            "minisockets count against that limit too).",
            # 5, 6: reuse, error signatures and their fixes; tw_recycle's real reason
            "action": "Reuse connections (keep-alive, pooling). For outbound connections "
            "tcp_tw_reuse (1, or the default 2 towards loopback) lets connect() take over a "
            "TIME_WAIT older than tcp_tw_reuse_delay when timestamps were used. connect() "
            "failing with EADDRNOTAVAIL: that (src, dst, dport) tuple has no free port; add "
            "source IPs or destination ports, or widen ip_local_port_range. bind(ip, 0) failing "
            "with EADDRINUSE: sockets that bind() before connect() are out of ports across all "
            "destinations; set IP_BIND_ADDRESS_NO_PORT before bind(), or a per-socket "
            "IP_LOCAL_PORT_RANGE (Linux 6.3+), and move ports held by bind() (listeners on high "
            "ports) out of the range or into ip_local_reserved_ports. tcp_tw_recycle no longer "
            "exists: it was removed in Linux 4.12 because it dropped SYNs from clients behind "
            "NAT and from clients with per-connection timestamp offsets.",
        },
        S.CLOSE: {
            "role": "closed: no connection",
            # 2: bit 13 returns bound-only sockets as state 7
            "meaning": "Not connected. twtop rarely sees a socket that has really closed: the "
            "kernel drops it from its table. Most CLOSE rows are sockets that only called "
            "bind() (no listen(), no connect()), which the kernel reports as CLOSE.",
            "waits": "nothing",
            "next": "nothing until the application calls listen() or connect(), or closes it",
            "normal": "Yes, in small numbers.",
            # 6: ports held by bind() are skipped by connect() for every destination
            "problem": "A bound socket inside ip_local_port_range holds its port: connect() "
            "skips that port for every destination, so many of them shrink every tuple.",
            "action": "Move such ports out of ip_local_port_range, or list them in "
            "ip_local_reserved_ports.",
        },
        S.CLOSE_WAIT: {
            "role": "PASSIVE closer: the peer closed first",
            "meaning": "The peer sent its FIN and the kernel acknowledged it. The application on "
            "this host has not called close() yet.",
            "waits": "this host's application to call close() (no timer unless SO_KEEPALIVE: "
            "it can wait forever)",
            # 7b: unread data -> RST; RST from the peer; SOCK_DESTROY
            "next": "close() sends our FIN and the socket goes to LAST_ACK; with unread data "
            "close() sends a RST instead (no LAST_ACK, no TIME_WAIT). A RST from the peer or "
            "SOCK_DESTROY (ss -K) also ends it",
            "normal": "For the moment between reading EOF and calling close().",
            "problem": "Any pile, or CLOSE_WAITs that stay across polls: the application leaks "
            "sockets (a code path that never closes). Without an owner on a listening port they "
            "were never accepted: the application stopped calling accept(). Unread data in "
            "rqueue means it stopped reading, too.",
            "action": "Find the owning process and the code path that does not close, and watch "
            "its descriptor count (ls /proc/PID/fd | wc -l). A falling CLOSE_WAIT count is not "
            "proof of a fix: a RST from the peer removes the socket while the descriptor stays "
            "open and leaks, and ss -K removes it too. Restarting the process releases them; no "
            "sysctl does.",
        },
        S.LAST_ACK: {
            "role": "PASSIVE closer: the peer closed first",
            "meaning": "The peer closed first, then this host's application closed too: our FIN "
            "waits for the peer's ACK.",
            "waits": "the peer's ACK of our FIN",
            "next": "the socket is gone (the passive closer keeps no TIME_WAIT)",
            "normal": "For about one round trip.",
            "problem": "Lingering with retransmits: the peer is not ACKing (it vanished after "
            "sending its FIN, or the path drops segments). Orphans are bounded by "
            "tcp_orphan_retries and tcp_max_orphans.",
            "action": "Usually nothing; the FIN is retransmitted until the retries run out, then "
            "the socket is dropped.",
        },
        S.LISTEN: {
            "role": "listening: accepts inbound connections",
            # 3: rqueue/wqueue of a listener; 7b: limit + 1
            "meaning": "A listening socket. rqueue is its accept queue now (connections that "
            "completed the handshake and wait for accept()), wqueue its limit: min(listen() "
            "backlog, somaxconn); the queue can hold limit + 1. Half-open connections wait in "
            "the SYN queue as SYN_RECV.",
            "waits": "SYNs, and the application to accept() queued connections",
            "next": "new connections queue here until accept()",
            "normal": "Always, with an accept queue near 0.",
            "problem": "A queue at limit + 1: the application accepts too slowly and new "
            "connections are dropped (ListenOverflows rises).",
            "action": "Make the application accept faster, or raise the backlog and somaxconn.",
        },
        S.CLOSING: {
            "role": "ACTIVE closer, simultaneous close",
            # 7b: steps 1 done, 2 waiting, 3 done, 4 done
            "meaning": "Both sides closed at about the same time: this host sent its FIN, then "
            "received the peer's FIN and acknowledged it. Only the peer's ACK of our FIN is "
            "missing.",
            "waits": "the peer's ACK of our FIN",
            "next": "TIME_WAIT",
            "normal": "Rare and brief.",
            "problem": "Lingering with retransmits: the ACK of our FIN does not arrive (the peer "
            "is gone, or the path drops it), so our FIN is retransmitted. Orphans are bounded "
            "by tcp_orphan_retries and tcp_max_orphans.",
            "action": "Nothing usually.",
        },
    },
    "zh": {
        S.ESTABLISHED: {
            "role": "已连接：双方都未关闭",
            "meaning": "连接已建立，数据可以双向传输。监听端口上没有所属进程（inode 为 0）的连接还在"
            "全连接队列（accept 队列）里：应用还没有对它调用 accept()。",
            "waits": "数据，或任一方发来的 FIN",
            "next": "先调用 close() 的一方发送 FIN，成为主动关闭方",
            "normal": "活跃连接总是处于此状态。",
            "problem": "只在数量异常时：同一对端有成千上万个，可能是连接池泄漏；监听端口上大量没有所属"
            "进程的连接，说明应用不再调用 accept()。",
            "action": "无需处理，除非某个对端或进程的数量持续增长。",
        },
        S.SYN_SENT: {
            "role": "建立中：本机发出了 SYN（出站 connect）",
            "meaning": "connect() 已发送 SYN，等待对端的 SYN-ACK。",
            "waits": "对端的 SYN-ACK",
            "next": "收到 SYN-ACK 后进入 ESTABLISHED；否则重传 SYN（定时器 on），最终失败",
            "normal": "每次 connect() 持续约一个往返时间（跨地域时为几十到几百毫秒）。",
            "problem": "数量多或有重传：对端或路径丢弃了 SYN（防火墙、路由，或对端监听套接字的"
            "全连接队列已满）。",
            "action": "检查对端端口是否可达；定时器列显示的是 SYN 连续超时的次数。",
        },
        S.SYN_RECV: {
            "role": "建立中：监听端口收到 SYN（入站）",
            "meaning": "半连接队列（SYN 队列）中的请求套接字：已收到 SYN 并回复 SYN-ACK，等待客户端"
            "最后的 ACK。",
            "waits": "客户端完成三次握手的 ACK",
            "next": "连接以 ESTABLISHED 状态进入监听套接字的全连接队列（尚未被 accept）",
            "normal": "每个监听端口短暂存在少量。",
            "problem": "大量堆积：SYN 洪水，或客户端从不回 ACK。半连接队列超过监听套接字的 backlog"
            "（listen() backlog 与 somaxconn 的较小值）即为满；此时在 tcp_syncookies=1（默认）下，"
            "内核改用 SYN cookie 应答，不再创建请求套接字，所以 SYN 洪水时最多只能看到约这么多个 "
            "SYN_RECV。",
            "action": "保持 tcp_syncookies=1；关注 SyncookiesSent、TCPReqQFullDoCookies 和 "
            "ListenDrops；查看持有它们的对端。只有 tcp_syncookies=0 时 tcp_max_syn_backlog 才起作用。",
        },
        S.FIN_WAIT1: {
            "role": "主动关闭方：本机先关闭",
            "meaning": "本机调用了 close() 或 shutdown(SHUT_WR)。FIN 排在尚未发出的数据之后"
            "（所以可能还没有发出），并等待对端的 ACK。",
            "waits": "对端对我方 FIN（以及之前数据）的 ACK",
            "next": "收到该 ACK 进入 FIN_WAIT2；先收到对端 FIN 则进入 CLOSING；两者同时到达则进入 "
            "TIME_WAIT",
            "normal": "持续约一个往返时间。",
            "problem": "长时间停留。定时器 on 且有重传：对端没有回 ACK（对端已消失，或路径丢包）。"
            "定时器 persist：对端接收窗口为 0（对端不再读取），我方数据和 FIN 都在等待。孤儿套接字"
            "（应用已关闭）受 tcp_orphan_retries 和 tcp_max_orphans 限制，与 tcp_fin_timeout 无关。",
            "action": "查看 wqueue（尚未被确认的字节数，FIN 另计 1）、定时器类型及其计数，查明对端"
            "为何不再读取或应答。",
        },
        S.FIN_WAIT2: {
            "role": "主动关闭方：本机先关闭",
            "meaning": "我方 FIN 已被确认；对端还没有发送它的 FIN。",
            "waits": "对端的 FIN（对端应用必须调用 close() 或 shutdown()）",
            "next": "收到对端 FIN 后进入 TIME_WAIT",
            "normal": "对端发送剩余数据期间短暂存在。",
            "problem": "堆积说明对端一直不关闭。如果本机应用已经关闭（孤儿套接字），等待时间受 "
            "tcp_fin_timeout 限制；该值大于 60 秒时总共等待 2 x（该值 - 60 秒）（70 对应 20 秒，"
            "120 对应 120 秒）。如果只调用了 shutdown(SHUT_WR) 且仍持有套接字，则没有任何定时器。"
            "孤儿 FIN_WAIT2 的 TIME_WAIT 轻量套接字也和 TIME_WAIT 一样计入 TcpExtTW 和 sockstat "
            "的 tw。",
            "action": "查明对端为何不关闭；tcp_fin_timeout 只限制孤儿套接字。",
        },
        S.TIME_WAIT: {
            "role": "主动关闭方：本机先关闭",
            "meaning": "双方 FIN 已交换，最后的 ACK 已发出。套接字保留 60 秒（TCP_TIMEWAIT_LEN，"
            "固定常量），让本连接迟到的报文消亡，并在对端重传 FIN 时能重发最后的 ACK；这类报文会把 "
            "60 秒重新计时。",
            "waits": "60 秒定时器到期（没有 sysctl 能改变它；tcp_fin_timeout 也不能）",
            "next": "套接字消失；其四元组（以及通往该目的地的本地端口）可以再次使用",
            "normal": "先关闭的一方总会有；每个关闭的连接保留 60 秒。TcpExtTW 和 sockstat 的 tw 也统计"
            "孤儿 FIN_WAIT2 的轻量套接字，所以可能大于 TIME_WAIT 的数量。",
            "problem": "某个（源、目的、目的端口）元组占用了大部分临时端口，且 tcp_tw_reuse 对它"
            "不适用（connect() 会以 EADDRNOTAVAIL 失败）；或达到 tcp_max_tw_buckets"
            "（TCPTimeWaitOverflow 增长；FIN_WAIT2 轻量套接字也计入该上限）。",
            "action": "复用连接（keep-alive、连接池）。对出站连接，tcp_tw_reuse（1，或默认的 2 仅限"
            "回环）允许 connect() 接管进入 TIME_WAIT 超过 tcp_tw_reuse_delay 且使用了时间戳的连接。"
            "connect() 报 EADDRNOTAVAIL：该（源、目的、目的端口）元组没有空闲端口；增加源 IP 或目的"
            "端口，或扩大 ip_local_port_range。bind(ip, 0) 报 EADDRINUSE：先 bind() 再 connect() "
            "的套接字在所有目的地上共用的端口已耗尽；在 bind() 前设置 IP_BIND_ADDRESS_NO_PORT，或为"
            "每个套接字设置 IP_LOCAL_PORT_RANGE（Linux 6.3 起），并把 bind() 占用的端口（监听在高端口"
            "的服务）移出该范围或加入 ip_local_reserved_ports。tcp_tw_recycle 已不存在：它在 Linux "
            "4.12 被删除，因为它会丢弃 NAT 后面客户端的 SYN，以及按连接随机化时间戳偏移的客户端的 "
            "SYN。",
        },
        S.CLOSE: {
            "role": "已关闭：无连接",
            "meaning": "未连接。twtop 很少看到真正关闭的套接字：内核会把它从表中删除。CLOSE 行大多是"
            "只调用了 bind()（没有 listen()、也没有 connect()）的套接字，内核把它们报告为 CLOSE。",
            "waits": "无",
            "next": "直到应用调用 listen() 或 connect()，或关闭它",
            "normal": "少量存在是正常的。",
            "problem": "位于 ip_local_port_range 内的已绑定套接字占住了端口：connect() 对所有目的地"
            "都会跳过它，数量多时每个元组可用的端口都会变少。",
            "action": "把这些端口移出 ip_local_port_range，或加入 ip_local_reserved_ports。",
        },
        S.CLOSE_WAIT: {
            "role": "被动关闭方：对端先关闭",
            "meaning": "对端发送了 FIN，内核已确认。本机应用还没有调用 close()。",
            "waits": "本机应用调用 close()（除非开启 SO_KEEPALIVE，否则没有定时器：可能永远等待）",
            "next": "close() 发出我方 FIN，套接字进入 LAST_ACK；如果还有未读数据，close() 改为发送 "
            "RST（不经过 LAST_ACK，也没有 TIME_WAIT）。对端发来 RST 或 SOCK_DESTROY（ss -K）"
            "也会结束它",
            "normal": "只存在于读到 EOF 和调用 close() 之间的瞬间。",
            "problem": "任何堆积，或跨多次轮询仍存在的 CLOSE_WAIT：应用泄漏套接字（某条代码路径从不"
            "关闭）。监听端口上没有所属进程的 CLOSE_WAIT 从未被 accept：应用不再调用 accept()。"
            "rqueue 中有未读数据说明它也停止了读取。",
            "action": "找到所属进程和不关闭的代码路径，并观察它的文件描述符数"
            "（ls /proc/PID/fd | wc -l）。CLOSE_WAIT 数量下降并不能证明问题已修复：对端的 RST "
            "会删除套接字，而描述符仍然打开并泄漏；ss -K 也会删除它。重启进程可以释放它们；任何 "
            "sysctl 都不能。",
        },
        S.LAST_ACK: {
            "role": "被动关闭方：对端先关闭",
            "meaning": "对端先关闭，随后本机应用也关闭了：我方 FIN 在等待对端的 ACK。",
            "waits": "对端对我方 FIN 的 ACK",
            "next": "套接字消失（被动关闭方不会进入 TIME_WAIT）",
            "normal": "持续约一个往返时间。",
            "problem": "长时间停留并重传：对端没有回 ACK（发出 FIN 后就消失了，或路径丢包）。孤儿"
            "套接字受 tcp_orphan_retries 和 tcp_max_orphans 限制。",
            "action": "通常无需处理；FIN 会重传到次数用完，之后套接字被丢弃。",
        },
        S.LISTEN: {
            "role": "监听中：接受入站连接",
            "meaning": "监听套接字。rqueue 是当前全连接队列（accept 队列）的长度（已完成握手、等待 "
            "accept() 的连接），wqueue 是其上限：listen() backlog 与 somaxconn 的较小值；队列最多"
            "可容纳上限 + 1 个。半连接以 SYN_RECV 状态在半连接队列（SYN 队列）中等待。",
            "waits": "SYN，以及应用对全连接队列中的连接调用 accept()",
            "next": "新连接在此排队直到被 accept()",
            "normal": "总是存在，全连接队列接近 0。",
            "problem": "队列达到上限 + 1：应用 accept 太慢，新连接被丢弃（ListenOverflows 增长）。",
            "action": "让应用更快地 accept，或调大 backlog 和 somaxconn。",
        },
        S.CLOSING: {
            "role": "主动关闭方，同时关闭",
            "meaning": "双方几乎同时关闭：本机发出了 FIN，随后收到对端的 FIN 并已确认。只差对端对我方 "
            "FIN 的 ACK。",
            "waits": "对端对我方 FIN 的 ACK",
            "next": "TIME_WAIT",
            "normal": "少见且短暂。",
            "problem": "长时间停留并重传：我方 FIN 的 ACK 没有到达（对端已消失，或路径丢包），FIN "
            "被重传。孤儿套接字受 tcp_orphan_retries 和 tcp_max_orphans 限制。",
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
        "unknown_old_kernel": "unknown (this kernel's tcp_info is too short)",
        "listening": "listening for inbound connections",
        "step_done": "done",
        "step_wait": "waiting",
        "step_next": "next",
        "step_queued": "sent, or still queued",
        "now": "now: {state}",
        "list_sep": ", ",
        "space": " ",
        "paren": "({text})",
        "happened": "Already happened: {steps}.",
        "nothing_happened": "No FIN has been sent by either side.",
        "dur_ms": "{ms} ms",
        "dur_s": "{s} s",
        "dur_min": "{m}m{s}s",
        "due": "a moment (overdue)",
        "timer_none": "No timer runs.",
        "timer_tw": "TIME_WAIT timer: {left} of 60 s left; last (re)armed {ago} ago (when it "
        "entered TIME_WAIT, unless a segment from the peer re-armed it since).",
        "timer_gone": "Gone: its timer ran out {ago} ago, so the kernel has removed this socket "
        "from its table (unless a segment from the peer reached it after twtop read it; "
        "refresh to check).",
        "gone_waits": "nothing: the socket is gone",
        "gone_next": "nothing more; its 4-tuple can be used again",
        "timer_fw2_mini": "Orphaned FIN_WAIT2, kept as a minisocket: {left} left of at most "
        "tcp_fin_timeout ({fin_timeout} s) or TCP_LINGER2.",
        "timer_fw2_mini2": "Orphaned FIN_WAIT2, second stage: tcp_fin_timeout is {fin_timeout} s "
        "(above 60 s), so it first waited {stage} s as a full socket and now waits up to "
        "another {stage} s as a minisocket ({left} left): {total} s in all, "
        "2 x ({fin_timeout} - 60).",
        "timer_fw2_long": "Orphaned FIN_WAIT2, first stage: tcp_fin_timeout is {fin_timeout} s "
        "(above 60 s), so it waits {left} more as a full socket (timer 2), then up to another "
        "{stage} s as a FIN_WAIT2 minisocket: {total} s in all, 2 x ({fin_timeout} - 60), "
        "not {fin_timeout} s.",
        "timer_fw2_long_unknown": "Orphaned FIN_WAIT2 with a timeout T above 60 s "
        "(tcp_fin_timeout or TCP_LINGER2): {left} more as a full socket (timer 2), then up "
        "to T - 60 s as a minisocket: 2 x (T - 60) in all.",
        "timer_fw2_open": "No timer: the application still holds this socket (it called "
        "shutdown(SHUT_WR), not close()), so FIN_WAIT2 can last forever.",
        "timer_keepalive": "Keepalive timer: next probe in {left}; unanswered probes: {retrans}.",
        "timer_retrans": "Retransmit timer: fires in {left}; consecutive timeouts since the last "
        "progress: {retrans} (not a total: tcp_info has the total).",
        "timer_retrans_fin": "Retransmit timer: fires in {left}; consecutive timeouts without an "
        "ACK: {retrans}, so the peer is not acknowledging (it is gone, or the path drops "
        "segments).",
        "timer_syn_sent": "SYN retransmit timer: fires in {left}; consecutive timeouts without a "
        "SYN-ACK: {retrans}.",
        "timer_syn": "SYN-ACK retransmit timer: fires in {left}; SYN-ACK retransmissions: "
        "{retrans}.",
        "timer_persist": "Zero-window probe timer ('persist'): the peer's receive window is 0 "
        "(it stopped reading), so our data waits; next probe in {left}; probes so far: "
        "{retrans}.",
        "persist_fin": "Our FIN waits behind that data.",
        "timer_cw": "No timer (unless SO_KEEPALIVE): CLOSE_WAIT lasts until the application "
        "calls close(), the peer sends a RST, or SOCK_DESTROY (ss -K) ends it.",
        "reuse_inbound": "Reuse: tcp_tw_reuse does not help here: it acts only in connect(), "
        "which picks ephemeral ports, not this listening port. A new SYN from the same client "
        "port can take this TIME_WAIT over (the kernel accepts it when its sequence/timestamp "
        "is newer).",
        "reuse_outbound": "Reuse: connect() may take over this 4-tuple when tcp_tw_reuse "
        "applies (now {reuse}: {reuse_meaning}), the connection used TCP timestamps "
        "(tcp_timestamps={ts} for new connections) and it entered TIME_WAIT at least {delay} ms "
        "ago ({ready}).",
        "reuse_off": "0 = off for ephemeral ports; a connect() from a socket bound explicitly "
        "to this local port can still take it over",
        "reuse_on": "1 = on for every destination",
        "reuse_loop_yes": "2 = loopback only, and this tuple is loopback",
        "reuse_loop_no": "2 = loopback only, so not for this tuple",
        "reuse_ready": "it did",
        "reuse_not_ready": "not yet, unless a segment re-armed its timer: the delay counts from "
        "when it entered TIME_WAIT",
        "orphan_fw2": "Orphan: the application closed its descriptor; only the kernel holds "
        "the socket now, for at most the tcp_fin_timeout wait.",
        "orphan_retries": "Orphan: the application closed its descriptor; only the kernel holds "
        "the socket now, until the handshake ends or tcp_orphan_retries / tcp_max_orphans end "
        "it (tcp_fin_timeout does not apply).",
        "not_accepted": "Not yet accepted: it waits in the accept queue of the listener on "
        "{listener}{lowner}. The application never had a descriptor for it (inode 0): it has "
        "not called accept() yet. Not an orphan.",
        "not_accepted_cw": "The client has already closed; a pile of these means the "
        "application stopped calling accept().",
        "listener_owner": " ({process}[{pid}])",
        "no_listener": "Owner: none. It has no descriptor (inode 0), but no listener holds "
        "{local} in this snapshot, so it is not waiting for accept(); only FIN_WAIT1, "
        "FIN_WAIT2, CLOSING and LAST_ACK sockets can be orphans. twtop cannot tell what holds it.",
        "no_listener_info": "Owner: none (inode 0: no descriptor). Without the list of "
        "listeners twtop cannot tell whether it waits in an accept queue (not yet accepted); "
        "it is not an orphan: only FIN_WAIT1, FIN_WAIT2, CLOSING and LAST_ACK sockets can be.",
        "no_fd": "Owner: none (inode 0: no descriptor).",
        "owner": "Owner: {process}[{pid}] ({user}).",
        "no_owner": "Owner: none (TIME_WAIT and request sockets have no inode, so no process).",
        "unknown_owner": "Owner: unknown (needs root to read other users' processes).",
        "unknown_owner_root": "Owner: not known yet. twtop maps sockets to processes from "
        "/proc and rescans it only every few seconds, so a new socket gets its owner a few "
        "seconds after it appears; if it stays unknown, its process is in another PID namespace "
        "or has just closed it.",
        "queues": "Queues: rqueue {rq} bytes received, not yet read by the application; wqueue "
        "{wq} bytes not yet acknowledged by the peer (sent or not yet sent).",
        "queues_fin": "Queues: rqueue {rq} bytes received and not read (a received FIN counts as "
        "1); wqueue {wq}: {data} bytes not yet acknowledged by the peer (sent or not yet sent), "
        "plus 1 for our FIN until the peer acknowledges it.",
        "queues_fin_only": "Queues: rqueue {rq} bytes received and not read (a received FIN "
        "counts as 1); wqueue 1: only our FIN, not yet acknowledged by the peer.",
        "fin_queued": "Our FIN goes out after those {data} bytes, so it may still be queued.",
        "cw_queue": "rqueue {rq}: {meaning}.",
        "cw_eof_unread": "only the peer's FIN (counted as 1 byte) is unread: the application has "
        "not read EOF yet",
        "cw_data_unread": "{data} bytes of data and the peer's FIN are unread; close() now would "
        "send a RST instead of a FIN (no LAST_ACK, no TIME_WAIT)",
        "cw_eof_read": "everything received, the FIN included, has been consumed; this does not "
        "prove the application saw EOF (a read that returns the last data also consumes a FIN "
        "that came with it)",
        "listen_queue": "Accept queue: {rq} connections wait for accept(); limit {wq}, the "
        "smaller of the listen() backlog and somaxconn; it can reach {max} (limit + 1) before "
        "new connections are dropped.",
        "peer_summary": "{count} {state} {prep} {peer}, {closer}",
        "to": "to",
        "from": "from",
        "on_lport": "on local port",
        "held_by": "held by",
        "closer_us": "this host closed first",
        "closer_peer": "the peer closed first; this host has not closed",
        "closer_none": "nobody has closed",
        "per_s": "~{rate}/s",
        "clause_sep": ", ",
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
        "inbound": "入站（对端连接到本机的监听端口）",
        "outbound": "出站（本机主动连出）",
        "unknown_dir": "方向未知",
        "unknown_old_kernel": "未知（此内核的 tcp_info 较短）",
        "listening": "监听入站连接",
        "step_done": "已完成",
        "step_wait": "等待中",
        "step_next": "下一步",
        "step_queued": "已发出，或仍在排队",
        "now": "当前：{state}",
        "list_sep": "、",
        "space": "",
        "paren": "（{text}）",
        "happened": "已经发生：{steps}。",
        "nothing_happened": "双方都还没有发送 FIN。",
        "dur_ms": "{ms} 毫秒",
        "dur_s": "{s} 秒",
        "dur_min": "{m} 分 {s} 秒",
        "due": "片刻",
        "timer_none": "没有定时器在运行。",
        "timer_tw": "TIME_WAIT 定时器：60 秒中还剩 {left}；最近一次（重新）计时在 {ago}前"
        "（即进入 TIME_WAIT 时，除非之后对端的报文让它重新计时）。",
        "timer_gone": "已消失：它的定时器在 {ago}前就已到期，内核已把这个套接字从表中删除"
        "（除非 twtop 读取之后又有对端报文到达；刷新即可确认）。",
        "gone_waits": "无：套接字已消失",
        "gone_next": "不再有后续；其四元组可以再次使用",
        "timer_fw2_mini": "孤儿 FIN_WAIT2，以 TIME_WAIT 轻量套接字保留：还剩 {left}，最长为 "
        "tcp_fin_timeout（{fin_timeout} 秒）或 TCP_LINGER2。",
        "timer_fw2_mini2": "孤儿 FIN_WAIT2，第二阶段：tcp_fin_timeout 为 {fin_timeout} 秒"
        "（大于 60 秒），所以它先以完整套接字等待了 {stage} 秒，现在以 TIME_WAIT 轻量套接字再等待"
        "最多 {stage} 秒（还剩 {left}）：总共 {total} 秒，即 2 x（{fin_timeout} - 60）。",
        "timer_fw2_long": "孤儿 FIN_WAIT2，第一阶段：tcp_fin_timeout 为 {fin_timeout} 秒"
        "（大于 60 秒），所以它先以完整套接字再等待 {left}（定时器 2），之后以 FIN_WAIT2 轻量"
        "套接字再等待最多 {stage} 秒：总共 {total} 秒，即 2 x（{fin_timeout} - 60），而不是 "
        "{fin_timeout} 秒。",
        "timer_fw2_long_unknown": "孤儿 FIN_WAIT2，超时值 T 大于 60 秒（tcp_fin_timeout 或 "
        "TCP_LINGER2）：先以完整套接字再等待 {left}（定时器 2），之后以轻量套接字再等待最多 "
        "T - 60 秒：总共 2 x（T - 60）。",
        "timer_fw2_open": "没有定时器：应用仍持有该套接字（调用的是 shutdown(SHUT_WR) 而不是 close()），"
        "FIN_WAIT2 可以永远持续。",
        "timer_keepalive": "保活（keepalive）定时器：下次探测在 {left}后；未应答的探测：{retrans} 次。",
        "timer_retrans": "重传定时器：{left}后触发；自上次有进展以来已连续超时 {retrans} 次（不是累计"
        "值：累计值见 tcp_info）。",
        "timer_retrans_fin": "重传定时器：{left}后触发；已连续超时 {retrans} 次仍没有 ACK：对端没有"
        "确认（对端已消失，或路径丢包）。",
        "timer_syn_sent": "SYN 重传定时器：{left}后触发；已连续超时 {retrans} 次仍没有收到 SYN-ACK。",
        "timer_syn": "SYN-ACK 重传定时器：{left}后触发；SYN-ACK 已重传 {retrans} 次。",
        "timer_persist": "零窗口探测定时器（persist）：对端接收窗口为 0（对端不再读取），我方数据"
        "在等待；下次探测在 {left}后，已探测 {retrans} 次。",
        "persist_fin": "我方 FIN 排在这些数据之后等待。",
        "timer_cw": "没有定时器（除非开启 SO_KEEPALIVE）：CLOSE_WAIT 会一直持续到应用调用 close()、"
        "对端发来 RST，或被 SOCK_DESTROY（ss -K）结束。",
        "reuse_inbound": "复用：tcp_tw_reuse 在这里没有帮助：它只在 connect() 中起作用，而 connect() "
        "选择的是临时端口，不是这个监听端口。来自同一客户端端口的新 SYN 可以接管这个 TIME_WAIT"
        "（当其序号/时间戳更新时内核会接受）。",
        "reuse_outbound": "复用：当 tcp_tw_reuse 适用（当前为 {reuse}：{reuse_meaning}）、该连接使用了 "
        "TCP 时间戳（新连接的 tcp_timestamps={ts}）且进入 TIME_WAIT 已至少 {delay} 毫秒（{ready}）时，"
        "connect() 可以接管这个四元组。",
        "reuse_off": "0 = 对临时端口关闭；显式 bind() 到这个本地端口的套接字调用 connect() 时仍可"
        "接管它",
        "reuse_on": "1 = 对所有目的地开启",
        "reuse_loop_yes": "2 = 仅限回环，而这个元组正是回环",
        "reuse_loop_no": "2 = 仅限回环，所以不适用于这个元组",
        "reuse_ready": "已满足",
        "reuse_not_ready": "尚未满足，除非有报文让它重新计时过：该延迟从进入 TIME_WAIT 时算起",
        "orphan_fw2": "孤儿套接字：应用已关闭其描述符；现在只有内核持有它，最长等待 tcp_fin_timeout。",
        "orphan_retries": "孤儿套接字：应用已关闭其描述符；现在只有内核持有它，直到挥手完成，或被 "
        "tcp_orphan_retries / tcp_max_orphans 结束（tcp_fin_timeout 不适用）。",
        "not_accepted": "尚未被 accept：它在全连接队列中等待（监听套接字 {listener}{lowner}）。应用"
        "从未拿到它的描述符（inode 为 0）：应用还没有对它调用 accept()。它不是孤儿套接字。",
        "not_accepted_cw": "客户端已经关闭；这类连接堆积说明应用不再调用 accept()。",
        "listener_owner": "，进程 {process}[{pid}]",
        "no_listener": "所属进程：无。它没有描述符（inode 为 0），但此快照中没有监听 {local} 的套接字，"
        "所以它不是在等待 accept()；只有 FIN_WAIT1、FIN_WAIT2、CLOSING 和 LAST_ACK 才可能是孤儿"
        "套接字。twtop 无法判断是谁持有它。",
        "no_listener_info": "所属进程：无（inode 为 0：没有描述符）。没有监听套接字列表，twtop 无法"
        "判断它是否在全连接队列中等待（尚未被 accept）；它不是孤儿套接字：只有 FIN_WAIT1、FIN_WAIT2、"
        "CLOSING 和 LAST_ACK 才可能是。",
        "no_fd": "所属进程：无（inode 为 0：没有描述符）。",
        "owner": "所属进程：{process}[{pid}]（{user}）。",
        "no_owner": "所属进程：无（TIME_WAIT 和请求套接字没有 inode，因此没有进程）。",
        "unknown_owner": "所属进程：未知（读取其他用户的进程需要 root）。",
        "unknown_owner_root": "所属进程：暂未知。twtop 通过 /proc 把套接字对应到进程，且每隔几秒才"
        "重新扫描一次，所以新套接字出现几秒后才会显示所属进程；如果一直未知，说明进程在另一个 PID "
        "命名空间中，或刚刚关闭了它。",
        "queues": "队列：rqueue 有 {rq} 字节已收到但应用尚未读取；wqueue 有 {wq} 字节尚未被对端确认"
        "（已发出或尚未发出）。",
        "queues_fin": "队列：rqueue 有 {rq} 字节已收到未读取（收到的 FIN 计为 1）；wqueue {wq}："
        "{data} 字节尚未被对端确认（已发出或尚未发出），再加上我方 FIN 的 1，直到对端确认它。",
        "queues_fin_only": "队列：rqueue 有 {rq} 字节已收到未读取（收到的 FIN 计为 1）；wqueue 1：只有"
        "我方 FIN，尚未被对端确认。",
        "fin_queued": "我方 FIN 要排在这 {data} 字节之后发出，所以可能还在排队。",
        "cw_queue": "rqueue {rq}：{meaning}。",
        "cw_eof_unread": "只有对端的 FIN（计为 1 字节）未读：应用还没有读到 EOF",
        "cw_data_unread": "还有 {data} 字节数据和对端的 FIN 未读；此时 close() 会发送 RST 而不是 FIN"
        "（不经过 LAST_ACK，也没有 TIME_WAIT）",
        "cw_eof_read": "收到的内容（包括 FIN）都已被读走；但这并不能证明应用看到了 EOF"
        "（读取最后一段数据的那次 read 也会一并消耗随之到达的 FIN）",
        "listen_queue": "全连接队列（accept 队列）：{rq} 个连接在等待 accept()；上限 {wq}，即 "
        "listen() backlog 与 somaxconn 的较小值；队列可达到 {max}（上限 + 1），之后新连接才会被"
        "丢弃。",
        "peer_summary": "{count} 个 {state} {prep} {peer}，{closer}",
        "to": "连往",
        "from": "来自",
        "on_lport": "位于本地端口",
        "held_by": "属于",
        "closer_us": "本机先关闭",
        "closer_peer": "对端先关闭；本机尚未关闭",
        "closer_none": "双方都未关闭",
        "per_s": "约 {rate}/秒",
        "clause_sep": "，",
        "tuple_share": "占该元组端口的 {pct}%",
        "label_waits": "等待",
        "label_next": "下一步",
        "label_normal": "正常情况",
        "label_problem": "何时是问题",
        "label_action": "怎么做",
        "colon": "：",
        "stop": "。",
        "tcp_info": "tcp_info：rtt {rtt} 毫秒（±{rttvar}），rto {rto} 毫秒，cwnd {cwnd}，{unacked} 个报文段"
        "未确认，累计重传 {retrans} 次；已确认 {acked} 字节，已接收 {received} 字节；最后发送数据在 {sent}"
        "前，最后接收数据在 {recv}前。",
    },
}

#: Advisor findings: title / evidence / why / action templates per finding id.
FINDINGS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "close_wait_leak": {
            "title": "CLOSE_WAIT piling up{owner_part}",
            "evidence": "{count} CLOSE_WAIT sockets; {ownership}; {aged} open "
            "{aged_s} s or longer (since twtop first saw them); {unread} with unread data",
            "why": "CLOSE_WAIT ends only when the application calls close(); the peer already "
            "closed. A pile is a socket leak in the application, not a kernel setting.",
            "action": "Fix the code path in {owner} that never closes (error paths, unconsumed "
            "response bodies, pools that drop without closing). Restarting it releases them.",
        },
        "tw_port_pressure": {
            "title": "Ephemeral ports running out towards {dst}:{dport}",
            "evidence": "{blocking} of {available} ports blocked from {src} ({pct}%): {live} "
            "live + {tw_blocking} of {tw} TIME_WAIT that connect() cannot take over ({regime}); "
            "{available} available = {budget}; {demand}; {state}; {who}",
            "why": "Each outbound connection to one (src, dst, dport) needs its own local port. "
            "A TIME_WAIT keeps it for 60 s unless tcp_tw_reuse applies (1, or 2 on loopback; "
            "timestamps on): then connect() takes it over once it is older than "
            "tcp_tw_reuse_delay. The limit is per tuple: ~{sustain} new connections/s here.",
            "action": "Reuse connections (HTTP keep-alive, connection pools). sysctl -w "
            "net.ipv4.tcp_tw_reuse=1 lets connect() reuse TIME_WAITs older than "
            "tcp_tw_reuse_delay (timestamps must be on). Add source IPs or destination ports; "
            "set IP_BIND_ADDRESS_NO_PORT when binding a source IP. Move listeners and bound "
            "ports out of ip_local_port_range. Widening ip_local_port_range helps. "
            "tcp_fin_timeout does not shorten TIME_WAIT, and tcp_tw_recycle was removed in "
            "Linux 4.12.",
        },
        "tw_server_side": {
            "title": "{who} closes inbound connections first ({count} inbound TIME_WAIT)",
            "evidence": "{count} TIME_WAIT on connections this host accepted ({share}% of all "
            "TIME_WAIT){listener}",
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
        "bound_in_range": {
            "title": "{bound} ports of the ephemeral range held by bind()",
            "evidence": "{listen} by listeners, {other} by bound sockets not listening, inside "
            "{low}-{high}: {available} ports left for connect() per tuple",
            "why": "connect() skips every port a bind()-ed socket holds, for every destination, "
            "so each (src, dst, dport) tuple has that many fewer ports.",
            "action": "Move listeners and bound ports out of ip_local_port_range, or list them "
            "in ip_local_reserved_ports; let clients pick their port at connect() "
            "(IP_BIND_ADDRESS_NO_PORT).",
        },
        "bind_port_pressure": {
            "title": "Clients that bind() on {src} before connect() are running out of ports",
            "evidence": "{held} of {available} ports held from {src} across all destinations "
            "({pct}%); its busiest tuple blocks {tuple_pct}%",
            "why": "bind(ip, 0) before connect() takes a port for every destination at once, so "
            "TIME_WAITs to one destination block all others: bind() then fails with EADDRINUSE "
            "while connect() alone would still find ports. Only clients that bind() hit this.",
            "action": "Set IP_BIND_ADDRESS_NO_PORT before bind() (the port is then chosen at "
            "connect(), per destination), or do not bind(); IP_LOCAL_PORT_RANGE (Linux 6.3) "
            "gives a socket its own range.",
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
            "why": "The kernel resets orphaned connections ('too many orphaned sockets', "
            "TCPAbortOnMemory) at the limit, and earlier for orphans that idled or got a soft "
            "ICMP error: their weight doubles, so resets can start at 1/2 or 1/4 of it.",
            "action": "Find who closes with data still unacknowledged; raise tcp_max_orphans "
            "only with memory to spare.",
        },
        "fin_wait2_pile": {
            "title": "FIN_WAIT2 piling up: peers that never close",
            "evidence": "{count} FIN_WAIT2, most to {peer} ({peer_count}); tcp_fin_timeout="
            "{fin_timeout}",
            "why": "This host closed and waits for the peer's FIN. Orphans are bounded by "
            "tcp_fin_timeout (above 60 s: 2 x (value - 60 s) in all); sockets the application "
            "still holds after shutdown() are not.",
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
            "why": "It drops SYNs from clients behind NAT, and from clients whose timestamps "
            "are randomised per connection (Linux 4.10-4.13 clients, and kernels carrying the "
            "stable change 165573e41f2f). It was removed in Linux 4.12.",
            "action": "sysctl -w net.ipv4.tcp_tw_recycle=0.",
        },
    },
    "zh": {
        "close_wait_leak": {
            "title": "CLOSE_WAIT 正在堆积{owner_part}",
            "evidence": "{count} 个 CLOSE_WAIT；{ownership}；{aged} 个已存在 {aged_s} 秒以上"
            "（自 twtop 首次看到起）；{unread} 个有未读数据",
            "why": "只有应用调用 close() 后 CLOSE_WAIT 才会结束；对端已经关闭。堆积是应用泄漏套接字，"
            "不是内核参数问题。",
            "action": "修复 {owner} 中从不关闭的代码路径（错误分支、未读完的响应体、丢弃而不关闭的连接池）。"
            "重启进程可以释放它们。",
        },
        "tw_port_pressure": {
            "title": "通往 {dst}:{dport} 的临时端口即将耗尽",
            "evidence": "从 {src} 出发已有 {blocking}/{available} 个端口被占用（{pct}%）：{live} 个活动连接 + "
            "{tw} 个 TIME_WAIT 中 connect() 无法接管的 {tw_blocking} 个（{regime}）；可用 {available} = "
            "{budget}；{demand}；{state}；{who}",
            "why": "通往同一（源、目的、目的端口）元组的每个出站连接都需要一个独立的本地端口。TIME_WAIT 会占用它 "
            "60 秒，除非 tcp_tw_reuse 生效（1，或 2 且为环回地址；需开启时间戳）：此时 connect() 会接管存在时间"
            "超过 tcp_tw_reuse_delay 的 TIME_WAIT。限制是按元组计算的：此处约每秒 {sustain} 个新连接。",
            "action": "复用连接（HTTP keep-alive、连接池）。sysctl -w net.ipv4.tcp_tw_reuse=1 允许 "
            "connect() 复用超过 tcp_tw_reuse_delay 的 TIME_WAIT（必须开启时间戳）。增加源 IP 或目的端口；"
            "绑定源 IP 时设置 IP_BIND_ADDRESS_NO_PORT。把监听端口和已绑定的端口移出 ip_local_port_range。"
            "扩大 ip_local_port_range 也有帮助。tcp_fin_timeout 不会缩短 TIME_WAIT，tcp_tw_recycle 已在 "
            "Linux 4.12 删除。",
        },
        "tw_server_side": {
            "title": "{who}先关闭入站连接（{count} 个入站 TIME_WAIT）",
            "evidence": "本机接受的连接上有 {count} 个 TIME_WAIT（占全部 TIME_WAIT 的 {share}%）{listener}",
            "why": "先关闭的一方保留 TIME_WAIT。服务器主动关闭（HTTP/1.0、'Connection: close'、空闲超时）"
            "时，TIME_WAIT 留在服务器而不是客户端。它们占用内存（约 {mem_mb} MB），但不占用本机的临时端口。",
            "action": "让客户端先关闭：开启 keep-alive，服务器不要发送 'Connection: close'。"
            "tcp_tw_reuse 对入站连接不起作用。",
        },
        "tw_buckets_overflow": {
            "title": "达到 tcp_max_tw_buckets：TIME_WAIT 正被丢弃",
            "evidence": "TCPTimeWaitOverflow 每秒 +{rate}（累计 {total}）；{tw} 个 TIME_WAIT，上限 {max}",
            "why": "超过上限后，内核直接关闭套接字而不进入 TIME_WAIT，且没有任何日志（与 ip-sysctl.rst "
            "的说法相反）。迟到的报文可能落到被复用的四元组上。",
            "action": "先降低连接的创建频率（复用连接）。只有内存充足时才调大上限："
            "sysctl -w net.ipv4.tcp_max_tw_buckets=N。",
        },
        "tw_reuse_off": {
            "title": "出站 TIME_WAIT 在堆积，而 tcp_tw_reuse={reuse} 对它们无效",
            "evidence": "{count} 个通往非回环地址的出站 TIME_WAIT；tcp_tw_reuse={reuse}",
            "why": "tcp_tw_reuse=2（默认）只复用通往回环地址的 TIME_WAIT；0 从不复用。它只在 connect() 中"
            "起作用，对入站连接无效。",
            "action": "如果端口紧张：sysctl -w net.ipv4.tcp_tw_reuse=1（需要开启 tcp_timestamps）。",
        },
        "timestamps_off": {
            "title": "tcp_timestamps=0：无法复用 TIME_WAIT",
            "evidence": "tcp_timestamps=0，有 {count} 个出站 TIME_WAIT",
            "why": "tcp_tw_reuse 需要旧连接的时间戳来区分新旧连接的报文。",
            "action": "sysctl -w net.ipv4.tcp_timestamps=1（默认值）。",
        },
        "narrow_port_range": {
            "title": "临时端口范围过窄（{available} 个端口）",
            "evidence": "ip_local_port_range {low}-{high}，保留 {reserved} 个",
            "why": "每个（源、目的、目的端口）元组最多只能同时有这么多活动连接加 TIME_WAIT。",
            "action": 'sysctl -w net.ipv4.ip_local_port_range="32768 60999" 或更宽'
            "（起止端口奇偶性不同）。",
        },
        "reserved_in_range": {
            "title": "临时端口范围内有 {reserved} 个保留端口",
            "evidence": "ip_local_reserved_ports={value} 位于 {low}-{high} 内",
            "why": "connect() 和 bind(0) 都会跳过保留端口，每个元组可用的端口因此更少。",
            "action": "尽量把保留端口放在 ip_local_port_range 之外。",
        },
        "bound_in_range": {
            "title": "临时端口范围内有 {bound} 个端口被 bind() 占用",
            "evidence": "{low}-{high} 内：监听套接字占用 {listen} 个，已绑定但未监听的套接字占用 {other} 个；"
            "每个元组留给 connect() 的端口为 {available} 个",
            "why": "connect() 对任何目的地都会跳过被 bind() 的套接字占用的端口，所以每个（源、目的、目的端口）"
            "元组可用的端口相应减少。",
            "action": "把监听端口和已绑定的端口移出 ip_local_port_range，或把它们加入 "
            "ip_local_reserved_ports；让客户端在 connect() 时再选端口（IP_BIND_ADDRESS_NO_PORT）。",
        },
        "bind_port_pressure": {
            "title": "在 {src} 上先 bind() 再 connect() 的客户端即将用完端口",
            "evidence": "从 {src} 出发、通往所有目的地共占用 {held}/{available} 个端口（{pct}%）；"
            "其最繁忙的元组占用 {tuple_pct}%",
            "why": "connect() 之前调用 bind(ip, 0) 会让一个端口同时对所有目的地生效，因此通往某一目的地的 "
            "TIME_WAIT 会挡住所有其他目的地：此时 bind() 以 EADDRINUSE 失败，而单独调用 connect() 仍能找到"
            "端口。只有先 bind() 的客户端会遇到。",
            "action": "在 bind() 之前设置 IP_BIND_ADDRESS_NO_PORT（端口改在 connect() 时按目的地选择），"
            "或者不调用 bind()；IP_LOCAL_PORT_RANGE（Linux 6.3）可以给单个套接字指定端口范围。",
        },
        "listen_overflow": {
            "title": "全连接队列（accept 队列）溢出{where}",
            "evidence": "ListenOverflows 每秒 +{rate}，ListenDrops 每秒 +{drops}{queue}",
            "why": "应用 accept() 不够快；新连接被丢弃，客户端超时后重试。",
            "action": "加快 accept（更多工作线程），或调大 listen() backlog 和 net.core.somaxconn。",
        },
        "orphans_high": {
            "title": "孤儿套接字接近 tcp_max_orphans",
            "evidence": "{orphans} 个孤儿套接字（所有命名空间），上限 {max}",
            "why": "达到上限时内核会重置孤儿连接（'too many orphaned sockets'，TCPAbortOnMemory）；"
            "空闲过久或收到软 ICMP 错误的孤儿套接字权重会加倍，所以在上限的 1/2 甚至 1/4 时就可能"
            "开始重置。",
            "action": "找出在数据未被确认时就关闭的程序；只有内存充足时才调大 tcp_max_orphans。",
        },
        "fin_wait2_pile": {
            "title": "FIN_WAIT2 正在堆积：对端从不关闭",
            "evidence": "{count} 个 FIN_WAIT2，最多的对端 {peer}（{peer_count} 个）；tcp_fin_timeout="
            "{fin_timeout}",
            "why": "本机已关闭，正在等待对端的 FIN。孤儿套接字受 tcp_fin_timeout 限制（大于 60 秒时"
            "总共为 2 x（该值 - 60 秒））；应用在 shutdown() 后仍持有的套接字则不受限制。",
            "action": "查明 {peer} 为何不关闭它那一端。",
        },
        "syn_recv_pile": {
            "title": "SYN_RECV 正在堆积（{count} 个）",
            "evidence": "{count} 个半开连接；tcp_syncookies={cookies}，tcp_max_syn_backlog={backlog}",
            "why": "客户端发送 SYN 却不完成握手：SYN 洪水，或者最后的 ACK 在路径上丢失。",
            "action": "保持 tcp_syncookies=1；查看持有它们的对端。",
        },
        "tw_recycle_on": {
            "title": "tcp_tw_recycle=1 会导致客户端连接失败",
            "evidence": "tcp_tw_recycle={value}",
            "why": "它会丢弃 NAT 后面客户端的 SYN，以及按连接随机化时间戳的客户端的 SYN"
            "（Linux 4.10-4.13 的客户端，以及带有稳定版补丁 165573e41f2f 的内核）。它已在 Linux 4.12 "
            "删除。",
            "action": "sysctl -w net.ipv4.tcp_tw_recycle=0。",
        },
    },
}

SEVERITY_WORDS = {
    "en": {"info": "info", "warning": "warning", "critical": "critical"},
    "zh": {"info": "提示", "warning": "警告", "critical": "严重"},
}

#: How a port tuple stands and how long its TIME_WAITs block connect() (twtop.ports).
PORT_WORDS = {
    "en": {
        "full": "new connect() to this tuple fails now: EADDRNOTAVAIL",
        "full_short": "FULL",
        "filling": "full in {t} at this demand",
        "filling_short": "full in {t}",
        "steady": "steady at this demand (~{pct}% of its ports)",
        "steady_short": "steady",
        "reuse": "reuse after {t}",
        "no_reuse": "no reuse ({why}): TIME_WAIT holds 60s",
        "budget": "{size} in range - {reserved} reserved - {bound} held by bind()",
        "budget_unknown": "{size} in range - {reserved} reserved (bound ports not known)",
        # attribution (issue 8): the processes behind a tuple, by cookie memory
        "made_by": "TIME_WAIT made by {who}: {n} of {tw} attributed",
        "made_by_none": "{tw} TIME_WAIT unattributed: closed before twtop started or made by a "
        "process twtop cannot see",
        "live_owners": "live sockets held by {who}",
        "made_by_none_short": "{tw} TIME_WAIT: maker unknown (not seen live)",
        "who_unknown": "no process known for its sockets",
        "attribution": "{n} of {tw} TIME_WAIT attributed (twtop saw their sockets live)",
        "unattributed": "unattributed: closed before twtop started or made by a process twtop "
        "cannot see",
        # demand: at saturation the TIME_WAIT rate is how fast ports free up, not the demand
        "demand": "~{rate} new connections/s",
        "demand_full": "ports free up at ~{rate}/s; demand unknown while connect() fails",
        "demand_short": "{rate}/s",
        "demand_full_short": "frees {rate}/s",
        "demand_unknown_cell": "unknown",
        "sep": "; ",
        "bound_dev_note": "{n} TIME_WAIT are bound to a device (SO_BINDTODEVICE): twtop counts "
        "them in their (src, dst, dport) tuple as if unbound, but they never block a connect() "
        "not bound to that device, and with tcp_tw_reuse=2 those bound to lo are taken over like "
        "loopback ones: such a tuple may be less full than shown",
    },
    "zh": {
        "full": "到此元组的新 connect() 现在就会失败：EADDRNOTAVAIL",
        "full_short": "已满",
        "filling": "按当前需求 {t}后耗尽",
        "filling_short": "{t}后耗尽",
        "steady": "按当前需求保持稳定（约占 {pct}% 的端口）",
        "steady_short": "稳定",
        "reuse": "{t}后可复用",
        "no_reuse": "不复用（{why}）：TIME_WAIT 占用 60 秒",
        "budget": "范围内 {size} - 保留 {reserved} - bind() 占用 {bound}",
        "budget_unknown": "范围内 {size} - 保留 {reserved}（bind() 占用的端口未知）",
        "made_by": "TIME_WAIT 由 {who} 创建：{tw} 个中已归属 {n} 个",
        "made_by_none": "{tw} 个 TIME_WAIT 未归属：在 twtop 启动前已关闭，或由 twtop 看不到的进程创建",
        "live_owners": "活动套接字属于 {who}",
        "made_by_none_short": "{tw} 个 TIME_WAIT：创建者未知（未见过其活动状态）",
        "who_unknown": "不知道其套接字属于哪个进程",
        "attribution": "{tw} 个 TIME_WAIT 中已归属 {n} 个（twtop 见过这些套接字处于活动状态）",
        "unattributed": "未归属的：在 twtop 启动前已关闭，或由 twtop 看不到的进程创建",
        "demand": "每秒约 {rate} 个新连接",
        "demand_full": "端口每秒约释放 {rate} 个；connect() 失败期间需求未知",
        "demand_short": "{rate}/秒",
        "demand_full_short": "释放 {rate}/秒",
        "demand_unknown_cell": "未知",
        "sep": "；",
        "bound_dev_note": "{n} 个 TIME_WAIT 绑定了网络设备（SO_BINDTODEVICE）：twtop 把它们当作未绑定，计入其"
        "（源、目的、目的端口）元组；但它们从不阻塞未绑定该设备的 connect()，而且在 tcp_tw_reuse=2 时，"
        "绑定到 lo 的 TIME_WAIT 会像环回连接的一样被接管：这样的元组可能没有显示的那么满",
    },
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
            "title": "一切正常：没有发现问题",
            "evidence": "{total} 个 TCP 套接字；检查了 {rules} 条规则；{sampling}",
            "why": "没有任何规则在这些数字中发现问题。需要两次采样的规则（计数器速率、CLOSE_WAIT "
            "存在时长）只有在采样间隔大于 0 时才会触发。",
            "action": "无需处理。",
        },
        "accept_stopped": {
            "title": "{where} 上的应用已停止调用 accept()",
            "evidence": "{where} 的全连接队列中有 {cw} 个 CLOSE_WAIT 和 {est} 个 ESTABLISHED 连接等待"
            "（已排队 {queued}，backlog {backlog}）；监听者：{owner}",
            "why": "内核已完成这些连接的握手，但应用从未 accept()：它们还没有文件描述符（inode 为 0），"
            "所以既不是孤儿套接字，也不是 CLOSE_WAIT 泄漏。对端已经关闭。队列最多容纳 backlog + 1 个；"
            "超过后新连接被丢弃（ListenOverflows）。",
            "action": "查明监听进程为何不再 accept:accept 循环阻塞或已退出、所有工作线程都在忙、"
            "线程卡死。重启它可以释放队列；调大 backlog 只会掩盖问题。",
        },
        "syn_queue": {
            "title": "{where} 上的半连接正在堆积",
            "evidence": "{where} 上有 {syn} 个 SYN_RECV,backlog {backlog}({pct}%);SyncookiesSent "
            "每秒 +{cookies},TCPReqQFullDoCookies 每秒 +{qfull},ListenDrops 每秒 +{drops};"
            "tcp_syncookies={syncookies}{syn_backlog}",
            "why": "当半连接队列超过监听者的 backlog = min(listen() 的 backlog, net.core.somaxconn)"
            "时即为满。tcp_syncookies=1 时内核随后用 SYN cookie 应答，不再创建请求套接字，所以洪水时最多"
            "只能看到约 backlog 个 SYN_RECV，其余要看计数器。客户端发送 SYN 却不完成握手：SYN 洪水，"
            "或者最后的 ACK 在路径上丢失。",
            "action": "保持 tcp_syncookies=1。如果是正常客户端在等待，调大 listen() 的 backlog"
            "（以及 somaxconn）；查看持有 SYN_RECV 的对端。只有 tcp_syncookies=0 时才会用到 "
            "tcp_max_syn_backlog。",
        },
        "orphans_pressure": {
            "title": "孤儿套接字接近 tcp_max_orphans",
            "evidence": "{orphans} 个孤儿套接字（全局：所有命名空间），tcp_max_orphans 为 {max}"
            "（全局）= {pct}%；TCPAbortOnMemory 每秒 +{abort}",
            "why": "孤儿套接字是应用已经关闭、但仍有数据或 FIN 要发送的连接。内核在达到上限之前就会重置它们"
            "（'too many orphaned sockets'，TCPAbortOnMemory）：长时间空闲或收到软 ICMP 错误的孤儿"
            "按两倍或四倍计算，所以在上限的 1/2 或 1/4 时就可能开始被杀掉。",
            "action": "找出在数据未被确认时就关闭的程序（inode 为 0 的 FIN_WAIT1、LAST_ACK、CLOSING）。"
            "只有内存充足时才调大 tcp_max_orphans。",
        },
    }
)

#: Words for values the advisor and reports cannot state as a number.
VALUE_WORDS = {
    "en": {
        "unknown": "unknown",
        "owner_part": " ({owner})",
        "global": "global",
        "rates_over": "rates over {s} s",
        "one_sample": "one sample: rules that need rates or ages could not fire",
        "owner_of": "owned by {owner}",
        "owned_by": "{owned} owned by {owner}",
        "unknown_holder": "the process that holds them ({reason})",
        "max_syn_backlog": ", tcp_max_syn_backlog={value} (read because tcp_syncookies=0)",
        "tw_server_host": "This host",
        "tw_server_who": "{owner} on {ports}",
        "tw_server_listener": "; they keep the local port {ports}, where {owner} listens",
        "tw_server_unowned": "; they keep the local port {ports}, where a process listens "
        "({reason})",
        "tw_server_ports": "; on {n} listening ports ({ports}), not counted per port: which "
        "service is unknown",
        "tw_server_by_port": "; by listening port: {items}{more}",
        "tw_port_item": ":{port} {n} ({owner})",
        "tw_ports_more": "; {n} more ports",
        "tw_port_sep": "; ",
        "owner_unknown": "owner unknown: {reason}",
    },
    "zh": {
        "unknown": "未知",
        "owner_part": "（{owner}）",
        "global": "全局",
        "rates_over": "速率基于 {s} 秒",
        "one_sample": "仅一次采样：需要速率或时长的规则无法触发",
        "owner_of": "属于 {owner}",
        "owned_by": "{owned} 个属于 {owner}",
        "unknown_holder": "持有它们的进程（{reason}）",
        "max_syn_backlog": "，tcp_max_syn_backlog={value}（因 tcp_syncookies=0 而生效）",
        "tw_server_host": "本机",
        "tw_server_who": "{ports} 上的 {owner} ",
        "tw_server_listener": "；它们保留本地端口 {ports}，在该端口监听的是 {owner}",
        "tw_server_unowned": "；它们保留本地端口 {ports}，有进程在该端口监听（{reason}）",
        "tw_server_ports": "；分布在 {n} 个监听端口（{ports}）上，未按端口计数：无法确定是哪个服务",
        "tw_server_by_port": "；按监听端口：{items}{more}",
        "tw_port_item": ":{port} {n} 个（{owner}）",
        "tw_ports_more": "；另有 {n} 个端口",
        "tw_port_sep": "；",
        "owner_unknown": "属主未知：{reason}",
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
        "not_root": "属主未知：读取其他用户的进程需要 root",
        "pid_namespace": "属主未知：此处可见的进程都不持有它（另一个 PID 命名空间，例如容器）",
        "not_looked_up": "属主尚未查找（进程表最多每隔几秒重新扫描一次）",
        "stale_or_ns": "属主未知：上次扫描时 /proc 中没有（另一个 PID 命名空间，或在那次扫描之后才打开）",
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

#: Words of the peer and socket tables: the first column's header follows the grouping (``g``).
UI_LABELS = {
    "en": {
        "head_ip": "PEER",
        "head_ipport": "PEER:PORT",
        "head_lport": "LOCAL PORT",
        "head_process": "PROCESS",
        "group_ip": "remote IP",
        "group_ipport": "remote IP:port",
        "group_lport": "local port",
        "group_process": "process",
        "peers_title": "Peers by {by} — sorted by {column} {arrow}",
        "more": "+{n} more",
        "groups_1": "{n} group",
        "groups_n": "{n} groups",
    },
    "zh": {
        "head_ip": "对端",
        "head_ipport": "对端:端口",
        "head_lport": "本地端口",
        "head_process": "进程",
        "group_ip": "远端 IP",
        "group_ipport": "远端 IP:端口",
        "group_lport": "本地端口",
        "group_process": "进程",
        "peers_title": "按 {by} 分组 — 按 {column} 排序 {arrow}",
        "more": "另有 {n} 组",
        "groups_1": "{n} 组",
        "groups_n": "{n} 组",
    },
}
