#!/bin/bash
# Globals by origin: a tagged client sees none of the privileged globals and
# cannot bind one by its name; a host client sees screencopy and the virtual
# keyboard; nobody but a tag's own proxy sees bulkhead_vm_manager_v1.
. "$BH_SOURCE_ROOT/tests/compositor/lib.sh"
PROBE_BIN=$BH_BUILD_ROOT/tests/compositor/bind-probe
forbidden='zwlr_screencopy_manager_v1 zwlr_export_dmabuf_manager_v1 zwp_virtual_keyboard_manager_v1
zwlr_virtual_pointer_manager_v1 zwlr_layer_shell_v1 zwlr_data_control_manager_v1
zwp_input_method_manager_v2 zwp_text_input_manager_v3 ext_session_lock_manager_v1
zwlr_output_manager_v1 zwlr_foreign_toplevel_manager_v1 zwlr_gamma_control_manager_v1
org_kde_kwin_idle ext_idle_notifier_v1 zwlr_input_inhibit_manager_v1
wp_security_context_manager_v1 xdg_activation_v1 zwp_linux_dmabuf_v1 wl_drm bulkhead_vm_manager_v1'
start_compositor

wayland-info >"$BH_TMP/host-info" 2>&1 || bh_fail "wayland-info as a host client failed"
for g in zwlr_screencopy_manager_v1 zwp_virtual_keyboard_manager_v1; do
	grep -q "'$g'" "$BH_TMP/host-info" || bh_fail "a host client does not see $g"
done
grep -q bulkhead_vm_manager_v1 "$BH_TMP/host-info" && bh_fail "a host client sees bulkhead_vm_manager_v1"

in_tag t1 "wayland-info > '$BH_TMP/tag-info' 2>&1; echo done > '$BH_TMP/tag-done'"
bh_wait_for 20 test -s "$BH_TMP/tag-done" || bh_fail "wayland-info in tag t1 did not run"
grep -q "'wl_compositor'" "$BH_TMP/tag-info" || bh_fail "the tagged client sees no wl_compositor: $(head -5 "$BH_TMP/tag-info")"
grep -q "'xdg_wm_base'" "$BH_TMP/tag-info" || bh_fail "the tagged client sees no xdg_wm_base"
for g in $forbidden; do
	grep -q "'$g'" "$BH_TMP/tag-info" && bh_fail "the tagged client sees $g"
done
n=$(grep -c "^interface:" "$BH_TMP/tag-info")
echo "tagged client: $n globals, none forbidden; host client: screencopy and virtual keyboard"

# Binding a forbidden global by its name (learnt from the host's list) fails.
for g in zwlr_screencopy_manager_v1 zwp_virtual_keyboard_manager_v1 zwlr_data_control_manager_v1; do
	name=$(sed -n "s/^interface: '$g',.*name: *\([0-9]*\).*/\1/p" "$BH_TMP/host-info")
	[ -n "$name" ] || bh_fail "no name for $g in the host's list"
	rm -f "$BH_TMP/probe-out"
	in_tag t1 "'$PROBE_BIN' $name $g 1 > '$BH_TMP/probe-out' 2>&1; echo \$? >> '$BH_TMP/probe-out'"
	bh_wait_for 20 test -s "$BH_TMP/probe-out" || bh_fail "bind-probe did not run"
	bh_wait_for 5 sh -c "tail -1 '$BH_TMP/probe-out' | grep -q '^[0-9]'"
	[ "$(tail -1 "$BH_TMP/probe-out")" = 0 ] ||
		bh_fail "a tagged client bound $g by name: $(cat "$BH_TMP/probe-out")"
	# The same probe as a host client binds it.
	"$PROBE_BIN" "$name" "$g" 1 >/dev/null && bh_fail "the probe cannot tell: host bind of $g refused"
	echo "bind $g (name $name) from t1: $(head -1 "$BH_TMP/probe-out")"
done
echo PASS
