// Package journey walks a team's audience pipeline through real Terraform
// (or OpenTofu) and the sandbox, one simulated CI job after another, in the
// spirit of Jepsen and FoundationDB's simulation testing: a seeded
// generator picks what happens between jobs (days pass, the CRM export
// changes, commits edit, move or add files, a console-made audience is
// imported, faults hit the platforms) and what each job runs (apply, plan
// then apply of the saved plan, the saved plan applied in another
// checkout, -target, destroy, a drift check). After every step it checks
// invariants against the sandbox's records, not against the provider's
// word: a successful apply is followed by an empty plan; the platforms
// hold exactly what state names, and nothing an ad platform must never
// get; a failed step leaves state the next run converges from; no secret
// reaches a log line, an error, state, a saved plan or the provider's
// cache.
//
// Every job starts from a fresh copy of the repository (generated folders
// absent, new inodes), with state in a local backend outside the checkout
// and the provider's cache directory kept or wiped at random, and runs the
// provider binary built the way a release is, installed by `init` from a
// filesystem mirror, so each command starts a real provider process under
// the CLI the way a user's does.
//
// Run it with `make journey SEED=N STEPS=M TF=/path/to/terraform-or-tofu`;
// the same seed draws the same steps, faults and resources the faults are
// aimed at. Faults on a Mintegral file's upload (the file_name parameter,
// the object key's file name) and on reading an audience (ta_ids, or
// ta_name before a create) hit only that resource's requests. The other
// faults match a method and path prefix, which cannot tell resources
// apart when several make the same call in one apply (an audience's
// create, update or delete, named in the body; OpenIM's calls and form
// uploads, and Mintegral's OSS form upload, keyed in the form): Terraform
// runs resources in parallel, so a replay may hit another of them.
// Timing is not replayed either (retry backoff, delays, Retry-After, the
// real time between steps), nor the sandbox's random object keys; a
// failure a replay does not show at once may need a few. A failure prints the seed, the steps so far, the broken
// invariant and the last command's output, and leaves the run's directory
// (its path is printed) for inspection.
package journey
