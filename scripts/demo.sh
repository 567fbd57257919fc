#!/usr/bin/env bash
# The main job on embedded defaults, as far as it has landed: start the local site,
# scaffold a Konfig repo, compile its dev stack to a spec, preview and apply it with
# health waits, then show that a second preview finds nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
kdeliver() { node bin/kdeliver.js "$@"; }
work=${KDELIVER_DEMO_DIR:-$PWD/demo}

kdeliver sandbox up
eval "$(kdeliver sandbox env)"
[ -e "$work/kcl.mod" ] || kdeliver init "$work"
kdeliver compile "$work/shop/dev" -o "$work/shop-dev.spec.yaml"
kdeliver apply --spec "$work/shop-dev.spec.yaml" --stack shop-dev --yes
kdeliver preview --spec "$work/shop-dev.spec.yaml" --stack shop-dev
echo
echo "The shop is running on the sandbox (KUBECONFIG=$KUBECONFIG)."
echo "Stop the site with: node bin/kdeliver.js sandbox down"
