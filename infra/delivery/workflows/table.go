package workflows

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sluicehq/sluice/infra/bootstrap/trust"
)

// The markers around the generated table in infra/DELIVERY.md.
const (
	TableBegin = "<!-- delivery-table:begin (generated: go test ./infra/delivery/workflows -run TestDeliveryTable -update) -->\n"
	TableEnd   = "<!-- delivery-table:end -->"
)

// Table renders the delivery table: for each identity of the trust plan, the
// workflow jobs that sign in as it (jobs, keyed by level), its federated
// subject, its roles and what it can and cannot touch.
func Table(jobs map[trust.Level][]string) string {
	var b strings.Builder
	b.WriteString("| workflow job | identity (client id variable) | federated subject | roles | can touch | cannot touch |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, id := range trust.Plan() {
		js := append([]string(nil), jobs[id.Level]...)
		sort.Strings(js)
		for i := range js {
			js[i] = "`" + js[i] + "`"
		}
		var roles []string
		for _, g := range id.Grants {
			roles = append(roles, g.String())
		}
		fmt.Fprintf(&b, "| %s | `%s` (`%s`) | `repo:<owner>/<repo>:%s` | %s | %s | %s |\n",
			strings.Join(js, ", "), id.ResourceName(), id.ClientIDVar, id.Subject,
			strings.Join(roles, "; "), id.Purpose, id.CannotTouch)
	}
	return b.String()
}
