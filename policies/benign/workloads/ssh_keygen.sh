#!/bin/bash
# ssh-keygen: new ed25519 and RSA keys in a user's ~/.ssh, fingerprints, the
# public half recomputed, a known_hosts entry hashed.
set -eu
export HOME="$1"
mkdir -p -m 700 "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N "" -C dev@example -f "$HOME/.ssh/id_ed25519"
ssh-keygen -q -t rsa -b 3072 -N "" -C dev@example -f "$HOME/.ssh/id_rsa"
ssh-keygen -l -f "$HOME/.ssh/id_ed25519.pub"
ssh-keygen -y -f "$HOME/.ssh/id_rsa" > /dev/null
echo "git.example.com $(cat "$HOME/.ssh/id_ed25519.pub" | cut -d' ' -f1-2)" > "$HOME/.ssh/known_hosts"
ssh-keygen -H -f "$HOME/.ssh/known_hosts"
