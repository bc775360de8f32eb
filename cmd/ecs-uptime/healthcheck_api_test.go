//go:build !noapi

package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ecs-uptime/uptime/config"
)

// healthcheck --help states the window the health endpoint is given (see
// run): healthIntervals, and with the api source its scan timeout too.
func TestHealthcheckHelpStatesTheWindow(t *testing.T) {
	out, _ := command("healthcheck", "--help").CombinedOutput()
	help := strings.Join(strings.Fields(string(out)), " ")
	api := healthIntervals + scanTimeout
	for _, want := range []string{
		fmt.Sprintf("within the last %d intervals (ECS_UPTIME_INTERVAL)", healthIntervals),
		fmt.Sprintf("With ECS_UPTIME_SOURCE=api the window is %d intervals (%d minutes at the default %ds): a scan may take up to %d intervals",
			api, int(time.Duration(api)*config.APIInterval/time.Minute), int(config.APIInterval.Seconds()), scanTimeout),
	} {
		if !strings.Contains(help, want) {
			t.Errorf("healthcheck --help:\n%s\nlacks %q", out, want)
		}
	}
}
