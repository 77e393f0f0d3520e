# Sourced by the scripts that run debootstrap. Prints the Debian mirror apt uses on this
# machine: deb822 `URIs:` lines first, then one-line `deb` entries; security and updates
# archives are skipped (debootstrap needs the main archive). Prints nothing when none is found.
find_mirror() {
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    if [ -f "$f" ]; then files+=("$f"); fi
  done
  ((${#files[@]})) || return 0
  awk '
    /^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) print $i }
    /^[[:space:]]*deb[[:space:]]/ { sub(/\[[^]]*\]/, ""); print $2 }
  ' "${files[@]}" | grep -E '/debian/?$' | grep -v -- '-security' | head -n 1 || true
}
