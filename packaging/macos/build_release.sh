#!/usr/bin/env bash
# The macOS release recipe: universal sensor dylib -> two `deno compile`
# binaries with the dylib embedded -> one universal binary in an app-shaped
# bundle (it carries the provisioning profile that authorises the
# EndpointSecurity entitlement) -> codesign (hardened runtime) -> pkgbuild +
# productbuild (signed) -> notarytool + stapler.
#
#   packaging/macos/build_release.sh VERSION            every step
#   packaging/macos/build_release.sh VERSION STEP...    some of: dylib compile bundle sign pkg notarize
#
# Needs macOS with Xcode command line tools, a "Developer ID Application" and a
# "Developer ID Installer" identity in the keychain, a provisioning profile
# granting com.apple.developer.endpoint-security.client, and notarytool
# credentials stored with `xcrun notarytool store-credentials`:
#   BM_SIGN_APP="Developer ID Application: Example Corp (TEAMID1234)"
#   BM_SIGN_INSTALLER="Developer ID Installer: Example Corp (TEAMID1234)"
#   BM_PROVISION_PROFILE=/path/to/bm_endpoint_security.provisionprofile
#   BM_NOTARY_PROFILE=bm-notary
# Outputs in dist/macos/: bm-VERSION.pkg (signed, notarized, stapled).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

version="${1:?usage: build_release.sh VERSION [dylib compile bundle sign pkg notarize]}"
shift
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(dylib compile bundle sign pkg notarize)

label=org.bm-project.bm
out="$repo/dist/macos"
app="$out/root/Library/Application Support/bm/bm.app"
deno="$repo/node_modules/.bin/deno"

need() { [ -n "${!1:-}" ] || { echo "Missing $1: see the top of $0" >&2; exit 2; }; }
[ "$(uname -s)" = Darwin ] || { echo "build_release.sh needs macOS (codesign, lipo, pkgbuild)" >&2; exit 1; }

step_dylib() {
  make -C dylib macos-universal
  need BM_SIGN_APP
  # signed before embedding: extracted into TMPDIR at run time, it then passes
  # library validation (same team as the binary) without disable-library-validation
  codesign --force --timestamp --options runtime --sign "$BM_SIGN_APP" dylib/build/macos/libbm_sensor.dylib
  # ffi/library.ts looks for dylib/build/libbm_sensor.dylib beside the sources,
  # which is where `deno compile --include` puts it inside the binary
  install -m 0755 dylib/build/macos/libbm_sensor.dylib dylib/build/libbm_sensor.dylib
}

step_compile() {
  mkdir -p "$out"
  # Permissions, and why each is needed (nothing else is granted):
  #   --allow-ffi            load libbm_sensor.dylib (the EndpointSecurity client)
  #   --allow-read           config, rules, the state dir, and any file a rule or the
  #                          quarantine inspects (hashes, ownership): not scoped, as
  #                          monitored paths are arbitrary
  #   --allow-write          state dir (SQLite threat store), quarantine, the control
  #                          socket, logs, `bm config set`: paths are settings, so not scoped
  #   --allow-env            BM_MANAGED_CONFIG / BM_LOCAL_CONFIG / BM_STATE_DIR /
  #                          BM_SENSOR_LIB overrides and TMPDIR
  #   --allow-sys=hostname,uid  hostname in exported events; uid for the root-only checks
  #   --allow-run            Deno.kill: killing a process tree is a response action
  # --v8-flags: as src/daemon/v8_flags.ts says (a small young generation, an early first full
  #   collection and a 1.25 heap growing factor keep the daemon's RSS flat under an exec flood;
  #   the experimental regexp engine runs every rule pattern in linear time)
  # Not granted: --allow-net (the control socket is a Unix socket, covered by read/write).
  for target in aarch64-apple-darwin x86_64-apple-darwin; do
    "$deno" compile --target "$target" --output "$out/bm-$target" \
      --include dylib/build/libbm_sensor.dylib --include policies \
      --v8-flags=--max-semi-space-size=4,--initial-old-space-size=32,--heap-growing-percent=25,--enable-experimental-regexp-engine \
      --allow-ffi --allow-read --allow-write --allow-env --allow-sys=hostname,uid --allow-run \
      main.ts
  done
  lipo -create -output "$out/bm" "$out/bm-aarch64-apple-darwin" "$out/bm-x86_64-apple-darwin"
  lipo -info "$out/bm"
}

step_bundle() {
  need BM_PROVISION_PROFILE
  rm -rf "$out/root"
  mkdir -p "$app/Contents/MacOS" "$out/root/Library/LaunchDaemons"
  install -m 0755 "$out/bm" "$app/Contents/MacOS/bm"
  sed "s/@VERSION@/$version/g" "$here/Info.plist" > "$app/Contents/Info.plist"
  install -m 0644 "$BM_PROVISION_PROFILE" "$app/Contents/embedded.provisionprofile"
  install -m 0644 "$here/$label.plist" "$out/root/Library/LaunchDaemons/$label.plist"
  plutil -lint "$app/Contents/Info.plist" "$out/root/Library/LaunchDaemons/$label.plist"
}

step_sign() {
  need BM_SIGN_APP
  codesign --force --timestamp --options runtime --entitlements "$here/bm.entitlements" \
    --identifier "$label" --sign "$BM_SIGN_APP" "$app"
  codesign --verify --strict --verbose=2 "$app"
  codesign --display --entitlements - "$app"
  # the designated requirement is what the PPPC profile's CodeRequirement must say
  codesign --display --requirements - "$app"
}

step_pkg() {
  need BM_SIGN_INSTALLER
  pkgbuild --analyze --root "$out/root" "$out/components.plist"
  # the bundle must land where the LaunchDaemon points, never be "relocated"
  plutil -replace 0.BundleIsRelocatable -bool NO "$out/components.plist"
  pkgbuild --root "$out/root" --component-plist "$out/components.plist" \
    --scripts "$here/scripts" --identifier "$label" --version "$version" \
    --install-location / "$out/bm-component.pkg"
  sed "s/@VERSION@/$version/g" "$here/distribution.xml" > "$out/distribution.xml"
  productbuild --distribution "$out/distribution.xml" --package-path "$out" \
    --sign "$BM_SIGN_INSTALLER" --timestamp "$out/bm-$version.pkg"
  pkgutil --check-signature "$out/bm-$version.pkg"
}

step_notarize() {
  need BM_NOTARY_PROFILE
  xcrun notarytool submit "$out/bm-$version.pkg" --keychain-profile "$BM_NOTARY_PROFILE" --wait
  xcrun stapler staple "$out/bm-$version.pkg"
  xcrun stapler validate "$out/bm-$version.pkg"
  spctl --assess --type install --verbose=2 "$out/bm-$version.pkg"
}

for s in "${steps[@]}"; do
  case "$s" in
    dylib | compile | bundle | sign | pkg | notarize) echo "== $s" && "step_$s" ;;
    *) echo "Unknown step \"$s\": expected dylib, compile, bundle, sign, pkg or notarize" >&2; exit 2 ;;
  esac
done
