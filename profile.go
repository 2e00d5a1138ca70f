package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// profileDirEnv names a directory where each provider process writes a CPU
// profile of its whole life and a heap profile at its end
// (cpu-<pid>.pprof, heap-<pid>.pprof): a debugging aid for the scale
// benchmark, off unless set. Read them with `go tool pprof`.
const profileDirEnv = "AUDIENCE_PROFILE_DIR"

// startProfiles starts the CPU profile when dir is set and returns what
// writes the profiles at exit; it never stops the provider from serving.
func startProfiles(dir string) (stop func()) {
	if dir == "" {
		return func() {}
	}
	runtime.MemProfileRate = 4096 // every 4 KiB: the small per-request objects that add up show in the profile
	name := func(kind string) string { return filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", kind, os.Getpid())) }
	cpu, err := os.Create(name("cpu"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", profileDirEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", profileDirEnv, err)
		_ = cpu.Close()
		return func() {}
	}
	done := make(chan struct{})
	go peakHeap(name("peak"), done)
	return func() {
		close(done)
		pprof.StopCPUProfile()
		_ = cpu.Close()
		heap, err := os.Create(name("heap"))
		if err != nil {
			return
		}
		defer func() { _ = heap.Close() }()
		runtime.GC()
		_ = pprof.Lookup("allocs").WriteTo(heap, 0)
	}
}

// peakHeap writes the heap profile to file each time the heap in use
// reaches a new high, sampled every 100 ms, until done.
func peakHeap(file string, done chan struct{}) {
	var high, maxLive uint64
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		metrics.Read(live)
		if v := live[0].Value.Uint64(); v > maxLive {
			maxLive = v
			if f, err := os.OpenFile(file+".txt", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
				_, _ = fmt.Fprintf(f, "live heap high: %d KiB, goroutines %d\n", v>>10, runtime.NumGoroutine())
				_ = f.Close()
			}
		}
		if maxLive <= high+high/10 {
			continue
		}
		high = maxLive
		runtime.GC() // the profile then shows what is live now
		if f, err := os.Create(file + ".goroutines"); err == nil {
			_ = pprof.Lookup("goroutine").WriteTo(f, 1)
			_ = f.Close()
		}
		if f, err := os.Create(file); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			_ = f.Close()
		}
	}
}
