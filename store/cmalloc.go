package store

/*
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
// retain raises the sizes past which glibc's malloc serves an allocation
// by its own mmap and hands freed memory at the top of a heap back to the
// kernel (by default 128 KiB, adjusted as it goes), and bounds its heaps
// (by default 8 a core, one more for each thread that finds the others
// busy), each of which keeps what it does not hand back.
static void retain(int arenas) {
	mallopt(M_ARENA_MAX, arenas);
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 2 << 20);
}
#else
static void retain(int arenas) {}
#endif
*/
import "C"

import "runtime"

// RetainCHeap keeps the memory SQLite frees for its next allocation,
// rather than handing it back to the kernel. A statement whose plan
// builds temporary b-trees (the grades statement builds one for the IN
// list of each of its arms) gives each a page cache of its own, allocated
// as it starts and freed as it ends. glibc's malloc handed that memory
// back, and the next run took it again a page at a time: 8 to 20 page
// faults a grades statement, each a trap into the kernel and a page
// cleared; about 6% of the legacy call's CPU under load. Kept, the memory
// is reused as it is. What the C heap keeps is bounded by what SQLite
// held at once (its page caches, see SQLitePragmas, and its statements)
// and by 2 MB free in each of its heaps, one for each thread that runs Go
// code at once (GOMAXPROCS).
//
// It sets the process's C allocator, glibc's where the process has it
// (elsewhere it does nothing): the setting is the process's, and setting
// it again changes nothing. A SQLite store sets it when it opens.
func RetainCHeap() { C.retain(C.int(runtime.GOMAXPROCS(0))) }
