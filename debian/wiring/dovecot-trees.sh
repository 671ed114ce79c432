
# mailfruit-dovecot-trees: a conf.d file that only includes the package's
# own settings file with !include_try, so that a plugin removed but not
# purged can never break Dovecot. Number 15: after 10-mail.conf, and before
# the 20-*.conf protocol sections, whose "mail_plugins = $mail_plugins ..."
# must see the plugin (LMTP without it would store mail in clear).
SNIPPET=/etc/dovecot/conf.d/15-mailfruit-trees.conf
SETTINGS=/usr/share/mailfruit-dovecot-trees/trees.conf

snippet_text() {
	cat <<TEXT
# Written by the mailfruit-dovecot-trees package: the TREES plugin is
# enabled. Turn it off with "dpkg-reconfigure mailfruit-dovecot-trees" (and,
# on a mailfruit server, "dpkg-reconfigure mailfruit"); this file is removed
# then and when the package is removed. The settings are in the file below,
# which goes away with the plugin; mailfruit-dovecot-trees(7) explains them.
!include_try $SETTINGS
TEXT
}

is_wired() {
	[ -f "$SNIPPET" ]
}

wire() {
	if [ ! -d /etc/dovecot/conf.d ]; then
		echo "$PKG: /etc/dovecot/conf.d is missing; not wired" >&2
		return 0
	fi
	if [ -f "$SNIPPET" ] && [ "$(cat "$SNIPPET")" = "$(snippet_text)" ]; then
		return 0
	fi
	snippet_text > "$SNIPPET.tmp" && mv "$SNIPPET.tmp" "$SNIPPET" || exit 70
	echo "$PKG: enabled the TREES plugin in Dovecot ($SNIPPET)" >&2
	dovecot_reload
}

unwire() {
	[ -f "$SNIPPET" ] || return 0
	rm -f "$SNIPPET" "$SNIPPET.tmp"
	echo "$PKG: disabled the TREES plugin in Dovecot (removed $SNIPPET)" >&2
	dovecot_reload
}

main "$@"
