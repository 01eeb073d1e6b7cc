package io.openshell.vm.driver;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/** Reads a guest's console log: scans new bytes for a line, and quotes its tail in error messages. */
public final class ConsoleLog {
  private ConsoleLog() {}

  /** How far a scan got, and whether the line was found in what was read. */
  public record Scan(long offset, boolean found) {}

  /** Scans from {@code offset}, keeping a line's worth of overlap so a marker split across reads is seen. */
  public static Scan scan(Path log, long offset, String marker) throws IOException {
    if (!Files.exists(log)) return new Scan(offset, false);
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
      long length = file.length();
      long from = Math.max(0, offset - marker.length());
      if (length <= from) return new Scan(offset, false);
      // Bounded: at most 1 MiB per scan; the rest on the next poll.
      int size = (int) Math.min(length - from, 1 << 20);
      byte[] bytes = new byte[size];
      file.seek(from);
      file.readFully(bytes);
      return new Scan(from + size, new String(bytes, StandardCharsets.ISO_8859_1).contains(marker));
    }
  }

  /** The last {@code lines} lines (control characters dropped), for a condition message. */
  public static String tail(Path log, int lines) throws IOException {
    if (!Files.exists(log)) return "(no console output)";
    long length = Files.size(log);
    byte[] bytes;
    try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
      int size = (int) Math.min(length, 64 * 1024);
      bytes = new byte[size];
      file.seek(length - size);
      file.readFully(bytes);
    }
    Deque<String> last = new ArrayDeque<>();
    for (String line : new String(bytes, StandardCharsets.UTF_8).split("\r?\n")) {
      String clean = line.replaceAll("\\p{Cntrl}\\[[0-9;?]*[A-Za-z]", "").replaceAll("\\p{Cntrl}", "").strip();
      if (clean.isEmpty()) continue;
      last.addLast(clean);
      if (last.size() > lines) last.removeFirst();
    }
    return last.isEmpty() ? "(no console output)" : String.join("\n", last);
  }
}
