package provider

import "testing"

func TestAppliesSavedPlan(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"terraform", "apply", "tfplan"}, true},
		{[]string{"terraform", "-chdir=infra", "apply", "-auto-approve", "-parallelism", "4", "tfplan"}, true},
		{[]string{"tofu", "apply", "-input=false", "plan.out"}, true},
		{[]string{"terraform", "apply"}, false},
		{[]string{"terraform", "apply", "-auto-approve", "-var", "x=1", "-var-file", "prod.tfvars"}, false},
		{[]string{"terraform", "apply", "-destroy"}, false},
		{[]string{"terraform", "plan", "-out=tfplan"}, false},
		{[]string{"terraform", "destroy"}, false},
		{[]string{"some-wrapper"}, true},
	} {
		if got := appliesSavedPlan(tc.args); got != tc.want {
			t.Errorf("appliesSavedPlan(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestIsPlainPlan(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"terraform", "plan"}, true},
		{[]string{"terraform", "-chdir=infra", "apply", "-auto-approve"}, true},
		{[]string{"tofu", "plan", "-out", "tfplan"}, true},
		{[]string{"terraform", "destroy", "-auto-approve"}, false},
		{[]string{"terraform", "apply", "-destroy"}, false},
		{[]string{"terraform", "plan", "-destroy"}, false},
		{[]string{"terraform", "apply", "-refresh-only"}, false},
		{[]string{"/usr/local/go/bin/go", "test", "./internal/provider", "-run", "TestAcc"}, false},
		{nil, false},
	} {
		if got := isPlainPlan(tc.args); got != tc.want {
			t.Errorf("isPlainPlan(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
