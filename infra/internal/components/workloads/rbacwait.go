package workloads

import (
	"time"
)

// RBACPropagation is how long a new role assignment may take to reach the
// cluster's Entra ID authorizer; Microsoft documents Azure RBAC changes as
// taking up to several minutes. Until then the deployer's calls are 403.
const RBACPropagation = 5 * time.Minute

// propagationWait is how long to wait before the first Kubernetes call
// given when the deployer's assignment was created (createdOn, RFC 3339 as
// ARM returns it): the rest of RBACPropagation for an assignment younger
// than that, nothing for an older one or an unknown time.
func propagationWait(createdOn string, now time.Time) time.Duration {
	t, err := time.Parse(time.RFC3339Nano, createdOn)
	if err != nil {
		return 0
	}
	if wait := t.Add(RBACPropagation).Sub(now); wait > 0 {
		return wait
	}
	return 0
}
