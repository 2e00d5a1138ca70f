package provider

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// The smoke run (`make testacc-smoke`, `-run '^TestAccSmoke'`) runs one
// acceptance test of each resource, data source and list resource under the
// oldest CLI the suite tests, so the versions the README names keep working.
// The smoke test of audience_foo_bar is named
//
//	TestAccSmokeFooBar         resource audience_foo_bar
//	TestAccSmokeDataFooBar     data source audience_foo_bar
//	TestAccSmokeListFooBar     list resource audience_foo_bar
//
// (CamelCase of the type name without "audience_"; initialisms may be
// upper case, as in TestAccSmokeDataIDList), optionally followed by
// "_whatItChecks". Pick the test that walks the type's ordinary life
// (create, a no-change plan, an update) rather than an edge case.
const smokePrefix = "TestAccSmoke"

// smokeTestName is the name the smoke test of a type starts with.
func smokeTestName(kind, typeName string) string {
	var b strings.Builder
	b.WriteString(smokePrefix + kind)
	for part := range strings.SplitSeq(strings.TrimPrefix(typeName, "audience_"), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// smokeTests lists the package's top-level test functions whose name starts
// with smokePrefix, each with the file that declares it.
func smokeTests(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, smokePrefix) {
				found[fn.Name.Name] = name
			}
		}
	}
	return found
}

// Every resource, data source and list resource the provider serves has
// exactly one smoke test, and every smoke test names one of them.
func TestEveryTypeHasOneSmokeTest(t *testing.T) {
	resp, err := NewServer("test")().GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // expected name -> what it tests
	add := func(kind, what string, schemas map[string]*tfprotov6.Schema) {
		for typeName := range schemas {
			want[smokeTestName(kind, typeName)] = what + " " + typeName
		}
	}
	add("", "resource", resp.ResourceSchemas)
	add("Data", "data source", resp.DataSourceSchemas)
	add("List", "list resource", resp.ListResourceSchemas)
	if len(resp.ResourceSchemas) == 0 || len(resp.DataSourceSchemas) == 0 {
		t.Fatal("the provider serves no resources or no data sources: the schema request failed")
	}

	// A test counts for the type whose expected name it equals, ignoring
	// case, up to an optional "_suffix".
	covered := map[string][]string{}
	tests := smokeTests(t)
	for _, name := range slices.Sorted(maps.Keys(tests)) {
		base, _, _ := strings.Cut(name, "_")
		matched := false
		for expected := range want {
			if strings.EqualFold(base, expected) {
				covered[expected] = append(covered[expected], name)
				matched = true
			}
		}
		if !matched {
			t.Errorf("%s (%s) is named like a smoke test but names no resource, data source or list resource of the provider; "+
				"smoke tests are TestAccSmoke<Type>, TestAccSmokeData<Type> or TestAccSmokeList<Type>, see smoke_test.go", name, tests[name])
		}
	}
	for _, expected := range slices.Sorted(maps.Keys(want)) {
		switch got := covered[expected]; len(got) {
		case 0:
			t.Errorf("%s has no smoke test: name one acceptance test of it %s (see smoke_test.go), so the smoke run under the oldest CLI covers it", want[expected], expected)
		case 1:
		default:
			t.Errorf("%s has %d smoke tests (%s); keep one, so the smoke run stays short", want[expected], len(got), strings.Join(got, ", "))
		}
	}
}

func TestSmokeTestName(t *testing.T) {
	for _, c := range []struct{ kind, typeName, want string }{
		{"", "audience_mintegral_file", "TestAccSmokeMintegralFile"},
		{"Data", "audience_id_list", "TestAccSmokeDataIdList"},
		{"List", "audience_mintegral_audience", "TestAccSmokeListMintegralAudience"},
		{"", "audience_futuredemand_ingest", "TestAccSmokeFuturedemandIngest"},
	} {
		if got := smokeTestName(c.kind, c.typeName); got != c.want {
			t.Errorf("smokeTestName(%q, %q) = %q, want %q", c.kind, c.typeName, got, c.want)
		}
	}
}
