#!/bin/sh
# Wiring of a mailfruit component into the stock Postfix or Dovecot
# configuration, shared by the component's maintainer scripts and the
# mailfruit server package (debian/wiring/ in the mailfruit source; each
# component's /usr/share/<package>/wiring is this file followed by the
# component's wire/unwire functions).
#
# Usage: wiring enable REQUESTER | disable REQUESTER | apply | unwire | status
#   enable/disable  record or drop REQUESTER's wish (a package name), then apply
#   apply           wire when at least one package wants it, else unwire
#   unwire          take the wiring out now, keep the wishes (prerm remove)
#   status          print "wired" or "not wired" and who wants it
# Wishes live in /var/lib/<package>/wired-by/<requester>; purge removes them.
# Exit status: 0, or 64 for bad usage, 70 when postconf or a file write fails.
set -eu

state=/var/lib/$PKG/wired-by

wanted_by() {
	[ -d "$state" ] || return 0
	ls -A "$state" 2>/dev/null | tr '\n' ' '
}

postfix_configured() {
	[ -f /etc/postfix/main.cf ] && command -v postconf >/dev/null 2>&1
}

# Reload a running Postfix; invoke-rc.d obeys a policy-rc.d.
postfix_reload() {
	if postfix status >/dev/null 2>&1; then
		invoke-rc.d postfix reload >/dev/null 2>&1 || \
			echo "$PKG: Postfix was not reloaded (run: postfix reload)" >&2
	fi
}

dovecot_reload() {
	if [ -f /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
		invoke-rc.d dovecot reload >/dev/null 2>&1 || \
			echo "$PKG: Dovecot was not reloaded (run: doveadm reload)" >&2
	fi
}

main() {
	[ $# -ge 1 ] || { echo "usage: wiring enable|disable REQUESTER | apply | unwire | status" >&2; exit 64; }
	case $1 in
	enable|disable)
		[ $# -eq 2 ] && [ -n "$2" ] || { echo "wiring: $1 needs a requester" >&2; exit 64; }
		case $2 in */*|.*) echo "wiring: bad requester $2" >&2; exit 64 ;; esac
		if [ "$1" = enable ]; then
			mkdir -p "$state"
			: > "$state/$2"
		else
			rm -f "$state/$2"
		fi
		main apply
		;;
	apply)
		if [ -n "$(wanted_by)" ]; then wire; else unwire; fi
		;;
	unwire)
		unwire
		;;
	status)
		if is_wired; then printf 'wired'; else printf 'not wired'; fi
		printf '; wanted by: %s\n' "$(wanted_by)"
		;;
	*)
		echo "wiring: unknown command $1" >&2
		exit 64
		;;
	esac
}
