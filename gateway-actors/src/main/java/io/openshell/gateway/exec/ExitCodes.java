package io.openshell.gateway.exec;

import java.util.Map;

/** Exit codes as a shell reports them: a command killed by signal N exits 128+N. */
final class ExitCodes {
  private ExitCodes() {}

  static final int TIMED_OUT = 124;

  private static final Map<String, Integer> SIGNALS = Map.ofEntries(
      Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5),
      Map.entry("ABRT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", 9), Map.entry("USR1", 10),
      Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13), Map.entry("ALRM", 14), Map.entry("TERM", 15));

  static int forSignal(String signal) {
    String name = signal.startsWith("SIG") ? signal.substring(3) : signal;
    return 128 + SIGNALS.getOrDefault(name, 0);
  }
}
