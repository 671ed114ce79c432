
# mailfruit-postfix-policy: one entry at the end of
# smtpd_recipient_restrictions (after any reject_unauth_destination, as
# SMTPD_POLICY_README asks, so the policy can never open a relay).
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

is_wired() { list_is_wired; }
wire() { list_wire; }
unwire() { list_unwire; }

main "$@"
