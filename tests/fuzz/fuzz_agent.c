/* libFuzzer target: the agent's parsing of control messages from the host
 * (first byte = message type, the rest = payload). */
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "guest-agent/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int once;
	if (!once) {
		bh_log_init("fuzz_agent", BH_LOG_SILENT);
		bh_log_set_level(BH_LOG_SILENT);
		once = 1;
	}
	if (size < 1) {
		return 0;
	}
	/* No agent and no endpoint: parsing only, nothing is launched or sent. */
	bh_agent_handle_control(NULL, NULL, data[0], data + 1, size - 1);
	return 0;
}
