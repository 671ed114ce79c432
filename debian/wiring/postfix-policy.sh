
# mailfruit-postfix-policy: one entry in smtpd_recipient_restrictions,
# placed where it decides: right after the first reject_unauth_destination
# (or defer_unauth_destination), as SMTPD_POLICY_README asks, but before
# any restriction that can accept a recipient from a client without TLS
# (permit, permit_auth_destination, an access map's OK...): Postfix ends a
# restriction list at its first OK, so a check after one of those is never
# asked. Being before reject_unauth_destination cannot open a relay: the
# daemon answers DUNNO or a refusal, never OK. Only trusted permits
# (mynetworks, SASL login, client certificate) stay ahead of it.
PARAM=smtpd_recipient_restrictions
ENTRY="check_policy_service unix:mailfruit-policyd/policy"
# What an empty smtpd_recipient_restrictions becomes (mailfruit-policyd(8)).
BASE="permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"

has_entry() {
	printf '%s\n' "$1" | grep -Eq '(^|[[:space:],])check_policy_service[[:space:],]+unix:mailfruit-policyd/policy([[:space:],]|$)'
}

without_entry() {
	printf '%s\n' "$1" | sed -E \
		-e 's/(^|[[:space:],]+)check_policy_service[[:space:],]+unix:mailfruit-policyd\/policy([[:space:],]|$)/\2/' \
		-e 's/^[[:space:],]+//; s/[[:space:],]+$//'
}

# The restrictions of a list, one a line: "END NAME [ARGUMENT]", END the
# offset in the list just after the restriction (its argument included).
# Restrictions that take an argument: check_* (a map or a policy server),
# the DNS list ones and sleep.
restriction_items() {
	awk '{
		s = $0; off = 0; pending = ""
		while (match(s, /[^ \t,]+/)) {
			w = substr(s, RSTART, RLENGTH)
			off += RSTART + RLENGTH - 1
			s = substr(s, RSTART + RLENGTH)
			if (pending != "") { print off, pending, w; pending = ""; continue }
			if (w ~ /^check_/ || w ~ /_(rbl|rhsbl|dnswl|rhswl)(_[a-z_]+)?$/ || w ~ /^(reject|permit)_(rbl|rhsbl|dnswl|rhswl)_/ || w == "sleep")
				pending = w
			else
				print off, w
		}
		if (pending != "") print off, pending
	}' <<LIST
$1
LIST
}

# Permits that only let through clients the TLS check leaves alone anyway:
# trusted networks, SASL logins, verified client certificates.
trusted_permit() {
	case $1 in
	permit_mynetworks|permit_sasl_authenticated|permit_tls_clientcerts|permit_tls_all_clientcerts|permit_inet_interfaces) return 0 ;;
	esac
	return 1
}

# may_accept NAME: can restriction NAME end the list with OK for a client
# without TLS that is neither trusted nor logged in? permit,
# permit_auth_destination, permit_mx_backup, access maps and other policy
# servers (they may answer OK), DNS allow-lists, restriction classes and
# anything unknown: yes.
may_accept() {
	trusted_permit "$1" && return 1
	case $1 in
	reject|defer|defer_if_permit|defer_if_reject|warn_if_reject|sleep|reject_*|defer_*) return 1 ;;
	esac
	return 0
}

# insert_at OFFSET LIST: LIST with the entry at OFFSET (an item boundary).
insert_at() {
	MF_AT=$1 MF_ENTRY="$ENTRY" awk '{
		a = ENVIRON["MF_AT"] + 0
		if (a == 0) print ENVIRON["MF_ENTRY"] ", " $0
		else print substr($0, 1, a) ", " ENVIRON["MF_ENTRY"] substr($0, a + 1) }' <<LIST
$2
LIST
}

with_entry() {
	at=0
	items=$(restriction_items "$1") || exit 70
	while read -r end name arg; do
		[ -n "$end" ] || continue
		case $name in
		reject_unauth_destination|defer_unauth_destination) at=$end; break ;;
		esac
		may_accept "$name" && break
		at=$end
	done <<ITEMS
$items
ITEMS
	insert_at "$at" "$1"
}

# Prints why the wired check never decides for a client without TLS, and
# succeeds, when a restriction before it can end the list with OK for
# such a client (an admin's edit); fails when the check is reachable.
unreachable_why() {
	list=$(postconf -xh "$PARAM" 2>/dev/null) || return 1
	restriction_items "$list" | { while read -r end name arg; do
		if [ "$name" = check_policy_service ] && [ "$arg" = unix:mailfruit-policyd/policy ]; then
			exit 1
		fi
		may_accept "$name" || continue
		echo "\"$name${arg:+ $arg}\" comes before it and can accept the recipient first"
		exit 0
	done; exit 1; }
}

is_wired() { list_is_wired; }
wire() {
	list_wire
	if postfix_configured && why=$(unreachable_why); then
		echo "$PKG: warning: the TLS check in Postfix's $PARAM is never asked: $why (move it before that)" >&2
	fi
}
unwire() { list_unwire; }

main "$@"
