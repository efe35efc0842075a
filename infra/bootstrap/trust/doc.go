// Package trust is the declared trust plan of the delivery pipeline: one Azure
// identity per trust level (pull-request preview, review stacks, image build,
// dev, staging and prod deploy, drift), the one GitHub OIDC subject each
// trusts, and the role assignments each gets, scoped to what its job needs.
//
// It is data, read by three users so that the plan is written once:
//   - infra/bootstrap declares exactly these identities, federated credentials
//     and role assignments;
//   - the workflow tests (infra/delivery/workflows) check that every job signs
//     in as the identity whose subject its token carries;
//   - the table in infra/DELIVERY.md is generated from it and the workflows.
//
// Stacks map to levels by name (StackLevel): review-* → review, dev and dev-*
// → dev, staging, prod. Each stack level has its own subscription, state
// container and state key, so no level can read another level's secrets or
// write its state; the read-only levels (preview, drift) get a custom role
// that can read and decrypt with a state key and nothing else.
package trust
