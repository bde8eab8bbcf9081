package testenv

import (
	"fmt"
	"testing"
)

// These measure the harness itself, so slow test setup shows up in `make bench`.

func BenchmarkStartRegistry(b *testing.B) {
	bin := Require(b, PartRegistry)
	for b.Loop() {
		r, err := startRegistry(bin, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		r.stop()
	}
}

func BenchmarkPushBusybox(b *testing.B) {
	reg := StartRegistry(b)
	if _, err := BusyboxContent(); err != nil {
		b.Skip(err)
	}
	i := 0
	for b.Loop() {
		PushBusybox(b, reg, fmt.Sprintf("bench/busybox%d", i), "1.36")
		i++
	}
}

func BenchmarkPushTiny(b *testing.B) {
	reg := StartRegistry(b)
	i := 0
	for b.Loop() {
		PushTiny(b, reg, fmt.Sprintf("bench/tiny%d", i), "1")
		i++
	}
}
