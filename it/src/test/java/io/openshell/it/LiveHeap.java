package io.openshell.it;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The live heap of another JVM (one outside any sandbox): a full GC, then the heap's used figure, via jcmd. */
final class LiveHeap {
  private static final Pattern USED = Pattern.compile("used (\\d+)K");

  private LiveHeap() {}

  static long bytesAfterFullGc(long pid) throws Exception {
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    Matcher m = USED.matcher(info);
    if (!m.find()) throw new AssertionError("no heap figure in: " + info);
    return Long.parseLong(m.group(1)) * 1024;
  }

  /** Live instances per class after a full GC (the class histogram). */
  static java.util.Map<String, Long> instances(long pid) throws Exception {
    java.util.Map<String, Long> counts = new java.util.HashMap<>();
    for (String line : jcmd(pid, "GC.class_histogram").split("\n")) {
      String[] columns = line.trim().split("\\s+");
      if (columns.length >= 4 && columns[0].endsWith(":")) counts.put(columns[3], Long.parseLong(columns[1]));
    }
    return counts;
  }

  private static String jcmd(long pid, String command) throws Exception {
    Process process = new ProcessBuilder(Repo.javaTool("jcmd"), Long.toString(pid), command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS)) throw new AssertionError("jcmd " + command + " did not finish in 60 s");
    if (process.exitValue() != 0) throw new AssertionError("jcmd " + command + " failed:\n" + out);
    return out;
  }
}
