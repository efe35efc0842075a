package langhost

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestExecRefusesCommandsThatRunNoProgram(t *testing.T) {
	_, err := Exec(context.Background(), func(*pulumi.Context) error { return nil }, nil, Command{CLI: "pulumi", Args: []string{"stack", "output"}})
	if err == nil || !strings.Contains(err.Error(), "runs no program operation") {
		t.Fatalf("Exec(stack output) = %v, want a refusal", err)
	}
}
