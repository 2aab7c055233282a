/* Runs a bundle on raw input files and writes raw output files:
 *   harness in_0.bin ... in_{N-1}.bin out_0.bin ... out_{M-1}.bin
 * (an output's rows as NAME_run_rows reports them: a loop's scan output only
 * as far as the run filled it),
 * Built by run_bundle_tests.py with -DBUNDLE=<name> -DBUNDLE_HEADER="<name>.h",
 * as C and as C++ (the header must work from both). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include BUNDLE_HEADER

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define SYM(x) CAT(BUNDLE, x)

static void *read_file(const char *path, size_t expected) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(2);
  }
  void *data = malloc(expected ? expected : 1);
  size_t n = fread(data, 1, expected, f);
  if (n != expected || fgetc(f) != EOF) {
    fprintf(stderr, "%s: expected %zu bytes\n", path, expected);
    exit(2);
  }
  fclose(f);
  return data;
}

int main(int argc, char **argv) {
  const int nin = SYM(_NUM_INPUTS), nout = SYM(_NUM_OUTPUTS);
  if (argc != 1 + nin + nout) {
    fprintf(stderr, "usage: %s %d inputs then %d outputs\n", argv[0], nin, nout);
    return 2;
  }
  const void *inputs[64];
  void *outputs[64];
  for (int i = 0; i < nin; ++i)
    inputs[i] = read_file(argv[1 + i], SYM(_inputs)[i].bytes);
  for (int o = 0; o < nout; ++o)
    outputs[o] = calloc(1, SYM(_outputs)[o].bytes ? SYM(_outputs)[o].bytes : 1);
  size_t ws = (SYM(_workspace_size)() + 63) / 64 * 64;
  void *workspace = aligned_alloc(64, ws ? ws : 64);
#ifdef WEIGHTS_FILE
  /* External weights: the run refuses (1) until they are set. */
  if (SYM(_run)(inputs, outputs, workspace) != 1) {
    fprintf(stderr, "run without weights did not return 1\n");
    return 1;
  }
  size_t wbytes = SYM(_weights_size)();
  void *weights = aligned_alloc(64, (wbytes + 63) / 64 * 64);
  void *read = read_file(WEIGHTS_FILE, wbytes);
  memcpy(weights, read, wbytes);
  SYM(_set_weights)(weights);
#endif
  /* NAME_run first, then NAME_run_rows into other buffers: the same
   * return code and the same values. Outputs whose rows only the run knows
   * (a loop's scan outputs) are written as far as it filled them. */
  void *again[64];
  for (int o = 0; o < nout; ++o)
    again[o] = calloc(1, SYM(_outputs)[o].bytes ? SYM(_outputs)[o].bytes : 1);
  int first = SYM(_run)(inputs, again, workspace);
  int64_t rows[64];
  int rc = SYM(_run_rows)(inputs, outputs, workspace, rows);
  if (rc != first) {
    fprintf(stderr, "run returned %d, run_rows %d\n", first, rc);
    return 1;
  }
  if (rc != 0) {
    fprintf(stderr, "run returned %d\n", rc);
    return 1;
  }
  for (int o = 0; o < nout; ++o)
    if (memcmp(outputs[o], again[o], SYM(_outputs)[o].bytes) != 0) {
      fprintf(stderr, "output %d differs between run and run_rows\n", o);
      return 1;
    }
  for (int o = 0; o < nout; ++o) {
    const nncc_tensor_info *info = &SYM(_outputs)[o];
    size_t bytes = info->bytes;
    int64_t room = info->rank > 0 ? info->dims[SYM(_rows_dims)[o]] : 1;
    if (room > 0 && rows[o] != room) /* (packed first along a later dimension) */
      bytes = bytes / (size_t)room * (size_t)rows[o];
    FILE *f = fopen(argv[1 + nin + o], "wb");
    if (!f || fwrite(outputs[o], 1, bytes, f) != bytes) {
      fprintf(stderr, "cannot write %s\n", argv[1 + nin + o]);
      return 2;
    }
    fclose(f);
  }
  printf("%s: %d input(s), %d output(s) (%s [%lld...]), workspace %zu bytes\n", SYM(_inputs)[0].name, nin, nout,
         SYM(_outputs)[0].name, (long long)SYM(_outputs)[0].dims[0], ws);
  return 0;
}
