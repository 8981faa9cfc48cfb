/* Test setup only, never shipped: Wine 8 has no bcryptprimitives.dll!ProcessPrng,
 * which Rust's standard library imports (real Windows 10 and later has it).
 * This stand-in, placed beside nvim.exe under Wine, fills the buffer with
 * advapi32's RtlGenRandom (SystemFunction036), in chunks of at most 1 GiB. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
    if (!SystemFunction036(data, n)) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
