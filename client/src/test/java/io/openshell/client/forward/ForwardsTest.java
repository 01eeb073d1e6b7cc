package io.openshell.client.forward;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.ssh.SshCommandLine;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ForwardsTest {
  @TempDir
  Path state;

  private static Process sleeper() throws Exception {
    return new ProcessBuilder("sleep", "60").start();
  }

  private static ForwardRecords.Forward recordOf(Process process, String sandbox, int port) {
    return new ForwardRecords.Forward(sandbox, new ForwardSpec("127.0.0.1", port), process.pid(),
        process.toHandle().info().startInstant().orElseThrow());
  }

  @Test
  void recordsRoundTripAndListSortedBySandboxThenPort() throws Exception {
    ForwardRecords records = new ForwardRecords(state);
    Process process = sleeper();
    try {
      records.save(recordOf(process, "b-box", 9000));
      records.save(recordOf(process, "a box/odd", 8080));
      records.save(recordOf(process, "a box/odd", 3000));
      assertEquals(List.of("a box/odd:3000", "a box/odd:8080", "b-box:9000"),
          records.all().stream().map(f -> f.sandbox() + ":" + f.spec().port()).toList());
      ForwardRecords.Forward loaded = records.load("a box/odd", 8080).orElseThrow();
      assertEquals(process.pid(), loaded.pid());
      assertTrue(loaded.process().isPresent());
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void stopEndsTheRecordedProcessAndDropsItsRecord() throws Exception {
    ForwardRecords records = new ForwardRecords(state);
    Forwards forwards = new Forwards(records, Environment.current());
    Process process = sleeper();
    ForwardRecords.Forward forward = recordOf(process, "box", 8080);
    records.save(forward);

    assertEquals(List.of(forward), forwards.to("box"));
    assertTrue(forwards.liveOnPort(8080).isPresent());
    assertTrue(forwards.stop(forward));

    assertTrue(process.waitFor(5, TimeUnit.SECONDS));
    assertTrue(records.load("box", 8080).isEmpty());
    assertFalse(forwards.stop(forward), "already gone");
  }

  @Test
  void aRecordWhosePidNowNamesAnotherProcessKillsNothing() throws Exception {
    ForwardRecords records = new ForwardRecords(state);
    Process unrelated = sleeper();
    try {
      // Same pid, different start time: the pid was reused by a process that is not our ssh.
      ForwardRecords.Forward stale = new ForwardRecords.Forward("box", new ForwardSpec("127.0.0.1", 8080), unrelated.pid(),
          Instant.parse("2001-01-01T00:00:00Z"));
      records.save(stale);

      assertTrue(stale.process().isEmpty());
      assertFalse(new Forwards(records, Environment.current()).stop(stale));
      assertTrue(unrelated.isAlive());
      assertTrue(records.load("box", 8080).isEmpty(), "the stale record is dropped");
    } finally {
      unrelated.destroyForcibly();
    }
  }

  @Test
  void aListenerIsFoundThroughProcOnlyForItsOwnerAndWhileOpen() throws Exception {
    Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "needs Linux /proc");
    long self = ProcessHandle.current().pid();
    int port;
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = listener.getLocalPort();
      assertTrue(ListeningSockets.listening(self, new ForwardSpec("127.0.0.1", port)));
      Process other = sleeper();
      try {
        assertFalse(ListeningSockets.listening(other.pid(), new ForwardSpec("127.0.0.1", port)));
      } finally {
        other.destroyForcibly();
      }
    }
    assertFalse(ListeningSockets.listening(self, new ForwardSpec("127.0.0.1", port)));
  }

  @Test
  void aBackgroundForwardWhoseSshFailsReportsItsOutputAndLeavesNoRecord() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh")), "OpenSSH client not installed");
    ForwardRecords records = new ForwardRecords(state);
    // A proxy that fails the way a gateway refusal does: a message on stderr, then exit.
    SshCommandLine ssh = SshCommandLine.forSandbox(List.of("/bin/sh", "-c", "echo proxy refused >&2; exit 1", "proxy"), "local", "box");

    CliException failure = assertThrows(CliException.class,
        () -> new Forwards(records, Environment.current()).startInBackground(ssh, "box", new ForwardSpec("127.0.0.1", 1)));

    assertTrue(failure.getMessage().contains("the forward's ssh exited with status 255"), failure.getMessage());
    assertTrue(failure.getMessage().contains("proxy refused"), failure.getMessage());
    assertTrue(records.all().isEmpty());
  }
}
