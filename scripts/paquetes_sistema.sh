#!/usr/bin/env bash
# System packages the test-suite needs, shared by `make test` and CI (.ci/run):
#   chromium        real browser for the Playwright tests (tests/e2e/*browser*)
#   openssh-server  real sshd for the SFTP transport tests
# Installs what is missing with apt-get (as root, or through passwordless sudo) and says so.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
if [ ${#need[@]} -eq 0 ]; then
  echo "▶ Paquetes del sistema para las pruebas: chromium y openssh-server ya están instalados."
  exit 0
fi
echo "▶ Instalando paquetes del sistema que usan las pruebas: ${need[*]} (apt-get)…"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "✗ Faltan ${need[*]} y no hay permisos de administrador: instálelos con" >&2
  echo "    sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "▶ Instalados: ${need[*]}."
