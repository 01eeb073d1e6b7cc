package io.openshell.supervisor.sshd;

import com.sun.jna.Library;
import com.sun.jna.Native;

/** {@code kill(2)} from libc: the JDK can signal one process, not a process group. */
final class ProcessSignals {
  static final int SIGHUP = 1;
  static final int SIGKILL = 9;
  static final int SIGCONT = 18;

  private interface LibC extends Library {
    int kill(int pid, int signal);
  }

  private static final LibC LIBC = Native.load("c", LibC.class);

  private ProcessSignals() {}

  /** Sends {@code signal} to one process; false if it is already gone. */
  static boolean signal(long pid, int signal) {
    return LIBC.kill((int) pid, signal) == 0;
  }

  /** Sends {@code signal} to every process of the group; false if the group is empty. */
  static boolean signalGroup(long processGroup, int signal) {
    return LIBC.kill((int) -processGroup, signal) == 0;
  }
}
