package uptime_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// The one-way flow holds in the imports: an output imports no policy
// stage, no policy stage imports an output, and the domain imports
// neither.
func TestImportRules(t *testing.T) {
	const mod = "ecs-uptime/uptime"
	policies := []string{mod + "/kind", mod + "/lifetime", mod + "/singleton", mod + "/reaper", mod + "/stuck", mod + "/stoprecord"}
	outputs := []string{mod + "/dogstatsd"}
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		imports[p.ImportPath] = p.Imports
	}
	forbid := func(pkgs, banned []string, why string) {
		for _, p := range pkgs {
			if _, ok := imports[p]; !ok {
				t.Errorf("package %s not found by go list", p)
			}
			for _, imp := range imports[p] {
				for _, b := range banned {
					if imp == b || strings.HasPrefix(imp, b+"/") && !strings.HasPrefix(imp, p+"/") {
						t.Errorf("%s imports %s: %s", p, imp, why)
					}
				}
			}
		}
	}
	forbid(outputs, policies, "an output writes signals and judges nothing")
	forbid(policies, outputs, "a policy stage makes signals and knows no output")
	forbid([]string{mod}, append(policies, outputs...), "the domain knows no stage and no output")
}
