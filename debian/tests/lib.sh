# lib.sh - helpers of the smoke tests (debian/tests/smoke, server-smoke):
# TAP lines, service restarts with or without systemd, SMTP from a test
# address, IMAP checks. The SMTP client speaks from 192.0.2.25, added to
# the loopback interface for the test (loopback clients are exempt from
# the TLS policy; 192.0.2.0/24 is TEST-NET-1 and never leaves the host);
# the address and the test user are removed on exit.
user=${user:-mfsmoke}
pass=mf-smoke-$$-pw
addr=192.0.2.25
work=$(mktemp -d /tmp/mf-smoke.XXXXXX)
passed=0 failed=0
added_addr=

cleanup() {
	[ -z "$added_addr" ] || ip addr del "$addr/32" dev lo 2>/dev/null || true
	if id "$user" >/dev/null 2>&1; then
		pkill -u "$user" 2>/dev/null || true
		userdel -r "$user" >/dev/null 2>&1 || true
	fi
	rm -f "/var/mail/$user"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: one test point; the output of a failure is shown.
check() {
	desc=$1; shift
	if "$@" >"$work/out" 2>&1; then ok "$desc"; else not_ok "$desc"; sed 's/^/#   /' "$work/out"; fi
}

have_systemd() { [ -d /run/systemd/system ]; }

# restart SERVICE: with systemd as installed; without it (autopkgtest's
# unshare or chroot runners) the way the unit or init script would.
restart() {
	if have_systemd; then
		systemctl restart "$1.service"
		return
	fi
	case $1 in
	postfix) postfix stop >/dev/null 2>&1 || true; postfix start ;;
	dovecot) doveadm stop >/dev/null 2>&1 || true; sleep 1; dovecot ;;
	mailfruit-policyd)
		start-stop-daemon --stop --quiet --oknodo --exec /usr/sbin/mailfruit-policyd
		/usr/sbin/mailfruit-policyd -t -c /etc/mailfruit/tls-policy.conf
		start-stop-daemon --start --background --chuid mailfruit-policyd \
			--exec /usr/sbin/mailfruit-policyd -- -s -c /etc/mailfruit/tls-policy.conf ;;
	esac
}

# expect DESCRIPTION FILE REGEX: one test point; shows FILE when it fails.
expect() {
	if grep -Eq "$3" "$2"; then ok "$1"; else not_ok "$1"; sed 's/^/#   /' "$2"; fi
}

wait_for() { # SECONDS COMMAND...
	n=$1; shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 1
	done
}

# SMTP from the test address; prints swaks' transcript. Extra swaks
# options after the first three (e.g. --port 587 --auth PLAIN ...).
smtp() { # TLS(yes|no) SUBJECT QUIT_AFTER(or "") [SWAKS OPTIONS...]
	tls=; [ "$1" = yes ] && tls=--tls
	subject=$2 quit=$3
	shift 3
	swaks --server "$addr" --local-interface "$addr" $tls \
		--from smoke@example.net --to "$user@${rcpt_domain:-localhost}" \
		--h-Subject "$subject" --body "body of $subject" ${quit:+--quit-after "$quit"} "$@" 2>&1 || true
}

# The test address on lo (idempotent; removed by cleanup).
add_test_addr() {
	if ip -o addr show dev lo | grep -q " $addr/"; then
		ok "$addr on lo (already there)"
	else
		check "$addr on lo" ip addr add "$addr/32" dev lo
		added_addr=yes
	fi
}

# The SMTP reply a plaintext RCPT gets in tls-policy.conf's mode.
plaintext_reply() {
	mode=$(sed -n 's/^mode[[:space:]]*=[[:space:]]*//p' /etc/mailfruit/tls-policy.conf | tail -n 1)
	case $mode in
	reject) want='<\*\* *550 5\.7\.1 ' ;;
	defer) want='<\*\* *450 4\.7\.1 ' ;;
	*) want='<- *250 2\.1\.5' ;;
	esac
}

# imap_check STARTTLS(yes|no) FROM SUBJECT: log in to 127.0.0.1 as $user
# from the address FROM, find the message. Dovecot counts a client whose
# address is loopback or the server's own address as secured (plaintext
# login allowed), so a test from "the network" uses $addr -> 127.0.0.1.
imap_check() {
	python3 - "$1" "$2" "$user" "$pass" "$3" <<'PY'
import imaplib, socket, ssl, sys
tls, source, user, password, subject = sys.argv[1:]
class IMAP(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, (source, 0))
m = IMAP("127.0.0.1")
if tls == "yes":
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m.starttls(ssl_context=ctx)
m.login(user, password)
m.select("INBOX")
typ, data = m.search(None, "SUBJECT", subject)
ids = data[0].split()
if not ids:
    sys.exit("no message with subject " + subject)
typ, msg = m.fetch(ids[-1], "(BODY[])")
if ("body of " + subject) not in msg[0][1].decode():
    sys.exit("body not found")
m.logout()
PY
}

summary() {
	echo "$1: $passed passed, $failed failed"
	[ "$failed" = 0 ]
}

