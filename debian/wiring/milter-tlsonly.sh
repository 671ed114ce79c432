
# mailfruit-milter-tlsonly: one entry in smtpd_milters, with its own
# default_action (Postfix 3.0 per-milter settings), so that mail is deferred
# (4xx) while the filter is down, whatever milter_default_action says for
# the admin's other milters. Never in non_smtpd_milters: the check is about
# SMTP clients.
PARAM=smtpd_milters
ENTRY="{ unix:/mailfruit-milter/milter, default_action=tempfail }"
BASE=

has_entry() {
	printf '%s\n' "$1" | grep -Fq "unix:/mailfruit-milter/milter"
}

# Our exact entry, or a bare unix:/mailfruit-milter/milter an admin wrote
# (README.Debian of earlier versions), with its separator.
without_entry() {
	MF_ENTRY="$ENTRY" awk '{
		e = ENVIRON["MF_ENTRY"]; s = $0
		for (i = index(s, e); i > 0; i = index(s, e))
			s = substr(s, 1, i - 1) substr(s, i + length(e))
		gsub(/unix:\/mailfruit-milter\/milter/, "", s)
		gsub(/^[ \t,]+|[ \t,]+$/, "", s)
		gsub(/,[ \t]*,/, ",", s)
		print s }' <<CUR
$1
CUR
}

is_wired() { list_is_wired; }
wire() { list_wire; }
unwire() { list_unwire; }

main "$@"
