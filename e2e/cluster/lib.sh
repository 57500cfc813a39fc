# shellcheck shell=bash
# Helpers shared by the cluster's up and down scripts (sourced).

# client_cert PKI-DIR NAME SUBJECT: a client certificate NAME.crt/NAME.key signed by the test CA.
client_cert() {
  openssl req -newkey rsa:2048 -nodes -subj "$3" -keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null
  openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" -CAcreateserial -days 3650 \
    -out "$1/$2.crt" 2>/dev/null
}

# write_kubeconfig SERVER PKI-DIR NAME: a kubeconfig on stdout for the client certificate NAME.
write_kubeconfig() {
  cat <<YAML
apiVersion: v1
kind: Config
clusters:
- name: dsm-test
  cluster:
    server: $1
    certificate-authority: $2/ca.crt
users:
- name: $3
  user:
    client-certificate: $2/$3.crt
    client-key: $2/$3.key
contexts:
- name: dsm-test
  context: { cluster: dsm-test, user: $3 }
current-context: dsm-test
YAML
}

# stop_pids DIR NAME...: SIGTERM to every process whose pid is in DIR/NAME.pid, all at once, SIGKILL to those
# still running 5 s later; the pid files are removed.
stop_pids() {
  local dir="$1" name pid pids=()
  shift
  for name in "$@"; do
    [[ -f $dir/$name.pid ]] || continue
    pids+=("$(cat "$dir/$name.pid")")
    rm -f "$dir/$name.pid"
  done
  [[ ${#pids[@]} -gt 0 ]] || return 0
  kill "${pids[@]}" 2>/dev/null
  for _ in $(seq 1 50); do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && { sleep 0.1; continue 2; }; done
    break
  done
  kill -9 "${pids[@]}" 2>/dev/null
  return 0
}
