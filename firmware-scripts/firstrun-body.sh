# The body of firstrun.sh (prepare-sd puts the board's values above it: boot, host_name,
# user_name, ssh_keys, wifi_ssid, wifi_pass). It runs once, as root, in systemd's
# kernel-command-line.target on Raspberry Pi OS Bookworm, then the board reboots.
# shellcheck shell=bash disable=SC2154 # boot, host_name, user_name, wifi_pass: assigned above this body
imager=/usr/lib/raspberrypi-sys-mods/imager_custom

# Hostname.
if [ -x "$imager" ]; then
  "$imager" set_hostname "$host_name"
else
  old=$(tr -d ' \t\n\r' </etc/hostname)
  echo "$host_name" >/etc/hostname
  sed -i "s/127\.0\.1\.1.*$old/127.0.1.1\t$host_name/" /etc/hosts
  grep -q '^127\.0\.1\.1' /etc/hosts || printf '127.0.1.1\t%s\n' "$host_name" >>/etc/hosts
fi

# The user: Bookworm renames its first user (uid 1000) with userconf, which also turns off the
# console wizard that would otherwise ask for a user on the first boot. '!' locks the password.
if ! id "$user_name" >/dev/null 2>&1; then
  if [ -x /usr/lib/userconf-pi/userconf ]; then
    /usr/lib/userconf-pi/userconf "$user_name" '!'
  else
    useradd -m -s /bin/bash -G adm,sudo "$user_name"
    usermod -p '!' "$user_name"
  fi
fi
echo "$user_name ALL=(ALL) NOPASSWD:ALL" >"/etc/sudoers.d/010_$user_name-nopasswd"
chmod 0440 "/etc/sudoers.d/010_$user_name-nopasswd"
if [ -n "$ssh_keys" ]; then
  home=$(getent passwd "$user_name" | cut -d: -f6)
  install -d -m 0700 -o "$user_name" -g "$user_name" "$home/.ssh"
  printf '%s\n' "$ssh_keys" >"$home/.ssh/authorized_keys"
  chown "$user_name:$user_name" "$home/.ssh/authorized_keys"
  chmod 0600 "$home/.ssh/authorized_keys"
  # Key only: no password logins over SSH.
  echo 'PasswordAuthentication no' >/etc/ssh/sshd_config.d/bramble.conf
fi

# Wi-Fi: a NetworkManager profile (Bookworm's network stack). The country is on cmdline.txt.
if [ -n "$wifi_ssid" ]; then
  profile=/etc/NetworkManager/system-connections/bramble-wifi.nmconnection
  install -d -m 0700 /etc/NetworkManager/system-connections
  {
    printf '[connection]\nid=bramble-wifi\nuuid=%s\ntype=wifi\n\n' "$(cat /proc/sys/kernel/random/uuid)"
    printf '[wifi]\nmode=infrastructure\nssid=%s\n\n' "$wifi_ssid"
    printf '[wifi-security]\nkey-mgmt=wpa-psk\npsk=%s\n\n' "$wifi_pass"
    printf '[ipv4]\nmethod=auto\n\n[ipv6]\nmethod=auto\n'
  } >"$profile"
  chmod 0600 "$profile"
  rfkill unblock wifi 2>/dev/null
  for file in /var/lib/systemd/rfkill/*:wlan; do [ -e "$file" ] && echo 0 >"$file"; done
fi

# Bramble (binary, units, bundle; it deletes bramble/ from the boot partition).
bash "$boot/bramble/install.sh"

# This script holds the Wi-Fi passphrase: it goes, and so does its hook on cmdline.txt.
rm -f "$boot/firstrun.sh"
sed -i -e "s# systemd.run=$boot/firstrun.sh##" -e 's# systemd.run_success_action=reboot##' -e 's# systemd.unit=kernel-command-line.target##' "$boot/cmdline.txt"
sync
exit 0
