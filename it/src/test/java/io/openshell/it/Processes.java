package io.openshell.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Finding and checking processes through /proc (a zombie counts as gone: it runs nothing). */
final class Processes {
  private Processes() {}

  /** Pids whose environment holds {@code OPENSHELL_SANDBOX_ID=<id>}. */
  static List<Long> withSandboxId(String sandboxId) {
    String needle = "OPENSHELL_SANDBOX_ID=" + sandboxId;
    List<Long> pids = new ArrayList<>();
    try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
      for (Path entry : (Iterable<Path>) entries::iterator) {
        String name = entry.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) continue;
        try {
          String environ = new String(Files.readAllBytes(entry.resolve("environ")), StandardCharsets.UTF_8);
          for (String variable : environ.split("\0")) {
            if (variable.equals(needle) && alive(Long.parseLong(name))) pids.add(Long.parseLong(name));
          }
        } catch (IOException | SecurityException ignored) {
          // the process ended while we looked, or is not ours to read
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return pids;
  }

  static String cmdline(long pid) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  /** The supervisor JVM itself among a sandbox's processes. */
  static long supervisorJvm(String sandboxId) {
    return withSandboxId(sandboxId).stream()
        .filter(pid -> cmdline(pid).contains("openshell-supervisor"))
        .filter(pid -> cmdline(pid).startsWith("/") && cmdline(pid).contains("java"))
        .filter(pid -> !cmdline(pid).contains("bwrap") && !cmdline(pid).contains("setpriv"))
        .findFirst().orElseThrow(() -> new AssertionError("no supervisor JVM for sandbox " + sandboxId
            + " among " + withSandboxId(sandboxId).stream().map(p -> p + ": " + cmdline(p)).toList()));
  }

  static boolean alive(long pid) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("State:")) return !line.contains("Z");
      }
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static boolean allGoneWithin(List<Long> pids, Duration within) {
    return Awaits.poll(within, () -> pids.stream().noneMatch(Processes::alive));
  }

  static void kill(long pid, String signal) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
  }
}
