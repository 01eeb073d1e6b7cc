package io.openshell.client.forward;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.ssh.SshProcess;
import io.openshell.client.ssh.SshCommandLine;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Starting and stopping background forwards: one ssh {@code -N -L} per forward, recorded in {@link ForwardRecords}. */
public final class Forwards {
  // ssh starts the proxy JVM, which may mint a session and wait for the relay: allow for all of it.
  private static final Duration READY_PATIENCE = Duration.ofSeconds(45);
  private static final Duration PROBE_INTERVAL = Duration.ofMillis(100);
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);

  private final ForwardRecords records;
  private final Environment environment;

  public Forwards(ForwardRecords records, Environment environment) {
    this.records = records;
    this.environment = environment;
  }

  /** Every recorded forward to this sandbox, running or not. */
  public List<ForwardRecords.Forward> to(String sandbox) {
    return records.all().stream().filter(forward -> forward.sandbox().equals(sandbox)).toList();
  }

  /** A live forward on this port, whatever sandbox it leads to. */
  public Optional<ForwardRecords.Forward> liveOnPort(int port) {
    return records.all().stream().filter(forward -> forward.spec().port() == port && forward.process().isPresent()).findFirst();
  }

  /**
   * Starts ssh in its own session (closing this terminal leaves it running), returns once its listener is
   * up, and records it; fails with the tail of its output when ssh exits first or never listens.
   */
  public ForwardRecords.Forward startInBackground(SshCommandLine ssh, String sandbox, ForwardSpec spec) {
    liveOnPort(spec.port()).ifPresent(existing -> {
      throw new CliException("port " + spec.port() + " is already forwarded to sandbox '" + existing.sandbox()
          + "' (stop it with: openshell forward stop " + spec.port() + " " + existing.sandbox() + ")");
    });
    Path log = records.logFile(sandbox, spec.port());
    List<String> command = new ArrayList<>(List.of("setsid"));
    command.addAll(ssh.forward(spec.sshBindAddress(), spec.port()));
    Process process;
    try {
      Files.createDirectories(log.getParent());
      process = SshProcess.inEnvironment(new ProcessBuilder(command), environment)
          .redirectInput(new File("/dev/null"))
          .redirectErrorStream(true)
          .redirectOutput(log.toFile())
          .start();
    } catch (IOException e) {
      throw new CliException("cannot start ssh for the forward: " + e.getMessage());
    }
    awaitListener(process, spec, log);
    ForwardRecords.Forward forward = new ForwardRecords.Forward(sandbox, spec, process.pid(),
        process.toHandle().info().startInstant().orElse(Instant.EPOCH));
    try {
      records.save(forward);
    } catch (IOException e) {
      process.destroy();
      throw new CliException("cannot record the forward: " + e.getMessage());
    }
    return forward;
  }

  /** Ends the recorded ssh (SIGTERM, SIGKILL after a grace) and drops the record; false when it had already exited. */
  public boolean stop(ForwardRecords.Forward forward) {
    Optional<ProcessHandle> process = forward.process();
    process.ifPresent(handle -> {
      handle.destroy();
      try {
        handle.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        handle.destroyForcibly();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException e) {
        // onExit never fails
      }
    });
    try {
      records.delete(forward.sandbox(), forward.spec().port());
    } catch (IOException e) {
      throw new CliException("cannot remove the forward's record: " + e.getMessage());
    }
    return process.isPresent();
  }

  /** Waits, on the process's exit as the event and /proc as a probe, until ssh listens; else fails with its output. */
  private static void awaitListener(Process process, ForwardSpec spec, Path log) {
    long deadline = System.nanoTime() + READY_PATIENCE.toNanos();
    while (!ListeningSockets.listening(process.pid(), spec)) {
      try {
        if (process.onExit().get(PROBE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS) != null) {
          throw new CliException("the forward's ssh exited with status " + process.exitValue() + tail(log));
        }
      } catch (TimeoutException stillRunning) {
        if (System.nanoTime() > deadline) {
          process.destroy();
          throw new CliException("the forward was not listening on " + spec + " after " + READY_PATIENCE.toSeconds() + " s" + tail(log));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroy();
        throw new CliException("interrupted");
      } catch (ExecutionException e) {
        throw new CliException("cannot watch the forward's ssh: " + e.getMessage());
      }
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      if (lines.isEmpty()) return "";
      return ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }
}
