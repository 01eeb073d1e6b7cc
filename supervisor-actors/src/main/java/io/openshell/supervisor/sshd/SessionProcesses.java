package io.openshell.supervisor.sshd;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The processes of one SSH channel. Each channel's program starts as the leader of a new session
 * ({@code setsid}, or the PTY's session), so its session id finds every process it started,
 * including the process groups an interactive shell creates for its jobs; a process that ran
 * {@code setsid} itself has left and is not counted.
 */
final class SessionProcesses {
  private static final Path PROC = Path.of("/proc");
  /** Bit of SIGHUP in the {@code SigIgn} mask of /proc/PID/status. */
  private static final long SIGHUP_BIT = 1L << (ProcessSignals.SIGHUP - 1);

  private SessionProcesses() {}

  /** Pids whose session is {@code sessionId}. */
  static List<Long> inSession(long sessionId) {
    List<Long> pids = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC, "[0-9]*")) {
      for (Path entry : entries) {
        long pid = Long.parseLong(entry.getFileName().toString());
        OptionalLong session = sessionOf(pid);
        if (session.isPresent() && session.getAsLong() == sessionId && !isZombie(pid)) {
          pids.add(pid);
        }
      }
    } catch (IOException e) {
      // /proc unreadable: nothing can be found, so nothing is signalled.
    }
    return pids;
  }

  /** The session id from /proc/PID/stat (field 6; the command name in field 2 may hold spaces). */
  static OptionalLong sessionOf(long pid) {
    String stat;
    try {
      stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
    return parseSession(stat);
  }

  static OptionalLong parseSession(String stat) {
    int end = stat.lastIndexOf(')');
    if (end < 0) return OptionalLong.empty();
    String[] fields = stat.substring(end + 1).trim().split(" ");
    // After the name: state, ppid, pgrp, session.
    if (fields.length < 4) return OptionalLong.empty();
    try {
      return OptionalLong.of(Long.parseLong(fields[3]));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  /** True when the process ignores SIGHUP ({@code nohup}): it asked to outlive its terminal. */
  static boolean ignoresHangup(long pid) {
    try {
      for (String line : Files.readAllLines(PROC.resolve(Long.toString(pid)).resolve("status"))) {
        if (line.startsWith("SigIgn:")) {
          return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & SIGHUP_BIT) != 0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Gone, or unreadable: treat as not ignoring.
    }
    return false;
  }

  private static boolean isZombie(long pid) {
    try {
      for (String line : Files.readAllLines(PROC.resolve(Long.toString(pid)).resolve("status"))) {
        if (line.startsWith("State:")) return line.contains("Z");
      }
    } catch (IOException | RuntimeException e) {
      return true;
    }
    return false;
  }
}
