// Package workflows holds the tests that guard the repository's GitHub Actions
// workflows (.github/workflows): actionlint, run as a library, must report
// nothing, and the house rules that actionlint does not know are checked here:
//
//   - every action that is not local is pinned to a full 40-character commit SHA
//     with a version comment (`uses: owner/repo@<sha> # v1.2.3`);
//   - the workflow-level permissions are empty and every job declares its own;
//   - `id-token: write` is granted only to jobs that sign in to Azure or call a
//     workflow that does;
//   - every job that changes a stack (up, destroy, the stack reaper) runs in a
//     concurrency group that never cancels a run in progress;
//   - pull_request_target, which runs untrusted code with secrets, is not used;
//   - every job signs in as exactly the identities of the trust plan
//     (infra/bootstrap/trust) that trust the subject its token carries
//     (pull_request, environment:<name>, ref:refs/heads/main), and no
//     pull-request job touches prod;
//   - every job that touches a cluster first builds the Pulumi CLI from the
//     module pinned by infra/delivery/pulumi-cli/go.sum (make pulumi-cli, never
//     the release archive, which has no pinned digest; its Go build cache keyed
//     on that go.sum) and installs kubelogin through the checksum-verified
//     installer, and runs on the stack's in-VNet runner when the stack's API
//     server is private;
//   - the delivery table in infra/DELIVERY.md equals Table (generated from the
//     trust plan and the workflows; -update rewrites it).
package workflows
