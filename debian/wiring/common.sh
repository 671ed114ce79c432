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
#   status          print "wired", "not wired" or (a component that can tell)
#                   "wired but unreachable (WHY)", and who wants it
# Wishes live in /var/lib/<package>/wired-by/<requester>; purge removes them.
# Exit status: 0, or 64 for bad usage, 70 when postconf or a file write fails.
set -eu

# MF_WIRING_VARLIB: tests only (the state in a temp dir); MAIL_CONFIG is
# Postfix's own (postconf obeys it).
varlib=${MF_WIRING_VARLIB:-/var/lib}/$PKG
state=$varlib/wired-by
postfix_dir=${MAIL_CONFIG:-/etc/postfix}

wanted_by() {
	[ -d "$state" ] || return 0
	ls -A "$state" 2>/dev/null | tr '\n' ' '
}

postfix_configured() {
	[ -f "$postfix_dir/main.cf" ] && command -v postconf >/dev/null 2>&1
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

# Components wired as one entry of a Postfix list parameter set PARAM and
# ENTRY (and BASE, what an empty PARAM stands for, or "") and define
# has_entry VALUE and without_entry VALUE (VALUE with the entry taken out).
# An empty PARAM becomes "BASE, ENTRY"; /var/lib/$PKG/was-empty remembers
# that, so unwiring puts PARAM back to its default. A component may define
# with_entry VALUE (VALUE with the entry put where it decides); without it
# the entry goes at the end.
list_is_wired() {
	postfix_configured && has_entry "$(postconf -h "$PARAM" 2>/dev/null)"
}

list_wire() {
	if ! postfix_configured; then
		echo "$PKG: Postfix has no main.cf yet; not wired (dpkg-reconfigure $PKG later)" >&2
		return 0
	fi
	cur=$(postconf -h "$PARAM") || exit 70
	has_entry "$cur" && return 0
	if [ -z "$cur" ]; then
		postconf -e "$PARAM = ${BASE:+$BASE, }$ENTRY" || exit 70
		mkdir -p "$varlib"
		: >"$varlib/was-empty"
	elif command -v with_entry >/dev/null 2>&1; then
		postconf -e "$PARAM = $(with_entry "$cur")" || exit 70
	else
		postconf -e "$PARAM = $cur, $ENTRY" || exit 70
	fi
	echo "$PKG: added \"$ENTRY\" to Postfix's $PARAM" >&2
	postfix_reload
}

list_unwire() {
	postfix_configured || return 0
	cur=$(postconf -h "$PARAM") || exit 70
	if has_entry "$cur"; then
		new=$(without_entry "$cur")
		if [ -z "$new" ] || { [ -f "$varlib/was-empty" ] && [ "$new" = "$BASE" ]; }; then
			postconf -X "$PARAM" || exit 70
		else
			postconf -e "$PARAM = $new" || exit 70
		fi
		echo "$PKG: removed \"$ENTRY\" from Postfix's $PARAM" >&2
		postfix_reload
	fi
	rm -f "$varlib/was-empty"
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
		if ! is_wired; then
			printf 'not wired'
		elif command -v unreachable_why >/dev/null 2>&1 && why=$(unreachable_why); then
			printf 'wired but unreachable (%s)' "$why"
		else
			printf 'wired'
		fi
		printf '; wanted by: %s\n' "$(wanted_by)"
		;;
	*)
		echo "wiring: unknown command $1" >&2
		exit 64
		;;
	esac
}
