#!/usr/bin/env bash
# Builds one libFuzzer target with clang (the main build may use gcc), and
# its dictionary when it has one, into OUT. The flavours:
#   fuzz      ASan + UBSan, for finding bugs (run-fuzz.sh, campaign.sh)
#   coverage  source-based coverage (-fprofile-instr-generate
#             -fcoverage-mapping) without sanitizers, for llvm-cov reports
#   build-fuzz.sh FLAVOUR TARGET OUT
# Generated protocol code comes from the main build ($BH_BUILD_ROOT).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
bh_need clang pkg-config

flavour=$1
target=$2
out=$3
src=$BH_SOURCE_ROOT
build=$BH_BUILD_ROOT
mkdir -p "$out"

protocol_code=("$build"/protocols/*-protocol.c)
[ -e "${protocol_code[0]}" ] || bh_fail "generated protocol code missing in $build/protocols: build first (ninja -C $build)"

case $flavour in
fuzz) flags=(-O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined) ;;
coverage) flags=(-O1 -g -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping) ;;
*) bh_fail "unknown flavour $flavour (fuzz or coverage)" ;;
esac

extra_sources=()
[ -f "$src/tests/fuzz/$target.sources" ] && mapfile -t extra_sources < <(sed "s|^|$src/|" "$src/tests/fuzz/$target.sources")

# shellcheck disable=SC2046
if ! clang "${flags[@]}" -std=c11 \
	-D_GNU_SOURCE -DWLR_USE_UNSTABLE -DBH_VERSION='"fuzz"' \
	-I"$src" -I"$build" -I"$build/protocols" \
	"$src/tests/fuzz/$target.c" "$src"/common/*.c "${extra_sources[@]}" "${protocol_code[@]}" \
	$(pkg-config --cflags --libs wayland-client wayland-server json-c inih liblz4 xcb xcb-composite xcb-xfixes) \
	-o "$out/$target" 2>"$out/$target.build.log"; then
	cat "$out/$target.build.log" >&2
	bh_fail "could not build $target ($flavour) with clang"
fi

# Dictionaries: the channel's is written by hand; the Wayland ones are
# made from the generated interface tables, so they follow the protocols.
rm -f "$out/$target.dict"
case $target in
fuzz_wl_msg | fuzz_relay)
	# shellcheck disable=SC2046
	if ! clang -O1 -std=c11 -D_GNU_SOURCE -I"$src" -I"$build" -I"$build/protocols" \
		"$src/tests/fuzz/wl-dict.c" "$src/common/allowlist.c" "${protocol_code[@]}" \
		$(pkg-config --cflags --libs wayland-client wayland-server) \
		-o "$out/wl-dict" 2>"$out/wl-dict.build.log"; then
		cat "$out/wl-dict.build.log" >&2
		bh_fail "could not build the Wayland dictionary generator"
	fi
	mode=wire
	[ "$target" = fuzz_relay ] && mode=relay
	"$out/wl-dict" "$mode" >"$out/$target.dict" || bh_fail "the Wayland dictionary generator failed"
	;;
*)
	[ -f "$src/tests/fuzz/$target.dict" ] && cp "$src/tests/fuzz/$target.dict" "$out/$target.dict"
	;;
esac
exit 0
