
# mailfruit-postfix-policy: one entry at the end of
# smtpd_recipient_restrictions (after any reject_unauth_destination, as
# SMTPD_POLICY_README asks, so the policy can never open a relay).
ENTRY="check_policy_service unix:mailfruit-policyd/policy"
# What an empty smtpd_recipient_restrictions becomes (mailfruit-policyd(8)).
BASE="permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"

has_entry() {
	printf '%s\n' "$1" | grep -Eq '(^|[[:space:],])check_policy_service[[:space:],]+unix:mailfruit-policyd/policy([[:space:],]|$)'
}

is_wired() {
	postfix_configured && has_entry "$(postconf -h smtpd_recipient_restrictions 2>/dev/null)"
}

wire() {
	if ! postfix_configured; then
		echo "$PKG: Postfix has no main.cf yet; not wired (dpkg-reconfigure $PKG later)" >&2
		return 0
	fi
	cur=$(postconf -h smtpd_recipient_restrictions) || exit 70
	has_entry "$cur" && return 0
	if [ -z "$cur" ]; then
		postconf -e "smtpd_recipient_restrictions = $BASE, $ENTRY" || exit 70
		: > "/var/lib/$PKG/was-empty"
	else
		postconf -e "smtpd_recipient_restrictions = $cur, $ENTRY" || exit 70
	fi
	echo "$PKG: added \"$ENTRY\" to Postfix's smtpd_recipient_restrictions" >&2
	postfix_reload
}

unwire() {
	postfix_configured || return 0
	cur=$(postconf -h smtpd_recipient_restrictions) || exit 70
	if has_entry "$cur"; then
		new=$(printf '%s\n' "$cur" | sed -E \
			-e 's/(^|[[:space:],]+)check_policy_service[[:space:],]+unix:mailfruit-policyd\/policy([[:space:],]|$)/\2/' \
			-e 's/^[[:space:],]+//; s/[[:space:],]+$//')
		if [ -f "/var/lib/$PKG/was-empty" ] && [ "$new" = "$BASE" ]; then
			postconf -X smtpd_recipient_restrictions || exit 70
		else
			postconf -e "smtpd_recipient_restrictions = $new" || exit 70
		fi
		echo "$PKG: removed \"$ENTRY\" from Postfix's smtpd_recipient_restrictions" >&2
		postfix_reload
	fi
	rm -f "/var/lib/$PKG/was-empty"
}

main "$@"
