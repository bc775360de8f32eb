package dogstatsd_test

import (
	"fmt"

	"ecs-uptime/uptime/dogstatsd"
)

func ExampleSanitize() {
	// A label that tries to end the tag list and add a field of its own.
	fmt.Println(dogstatsd.Sanitize("billing,env:prod|#forged"))
	// Output: billing_env:prod__forged
}

func ExampleSplitImage() {
	img := dogstatsd.SplitImage("registry.local:5000/team/migrate:2026.11.3")
	fmt.Println(img.Name, img.Short, img.Tag)
	// Output: registry.local:5000/team/migrate migrate 2026.11.3
}
