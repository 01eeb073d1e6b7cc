package io.openshell.it.sim;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;

/**
 * The one thread every simulated actor runs on. Pekko's dispatchers are pointed at this configurator
 * ({@code executor = "io.openshell.it.sim.SimulationExecutor"}), so all mailboxes of the simulated
 * gateway run one at a time in FIFO order. That gives two things a simulation needs: the same inputs
 * replay the same interleaving (a seed is re-runnable), and "no task queued or running" means no
 * message is in flight anywhere, which is how the harness knows a step has settled without waiting.
 */
public final class SimulationExecutor extends ExecutorServiceConfigurator {

  private static final Object monitor = new Object();
  private static final boolean DEBUG = Boolean.getBoolean("sim.debug-executor");
  private static final java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private static int inFlight;
  private static ThreadPoolExecutor thread;

  public SimulationExecutor(Config config, DispatcherPrerequisites prerequisites) {
    super(config, prerequisites);
  }

  @Override
  public ExecutorServiceFactory createExecutorServiceFactory(String id, ThreadFactory threadFactory) {
    return () -> new Shared();
  }

  /**
   * Blocks the harness thread until nothing is queued or running on the simulation thread.
   *
   * @throws TimeoutException when the simulated system does not settle in {@code patience} (a livelock,
   *     or work running outside this executor)
   */
  public static void awaitIdle(Duration patience) throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + patience.toNanos();
    while (true) {
      synchronized (monitor) {
        while (inFlight > 0) {
          long left = deadline - System.nanoTime();
          if (left <= 0) throw new TimeoutException(inFlight + " simulation tasks still queued or running after " + patience);
          TimeUnit.NANOSECONDS.timedWait(monitor, left);
        }
      }
      // Scala's future → CompletionStage conversion (every javadsl ask) completes its dependents
      // asynchronously on the common pool: a message may still be on its way from there.
      ForkJoinPool.commonPool().awaitQuiescence(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      synchronized (monitor) {
        if (inFlight == 0 && ForkJoinPool.commonPool().isQuiescent()) return;
      }
      if (System.nanoTime() > deadline) throw new TimeoutException("the simulation did not settle within " + patience);
    }
  }

  /**
   * With fewer than two common-pool threads the JDK runs async CompletableFuture stages on a new
   * thread each (2-core machines), which nothing can wait for; the simulation needs the pool.
   */
  public static void requireTrackableCommonPool() {
    if (ForkJoinPool.getCommonPoolParallelism() < 2) {
      throw new IllegalStateException("the gateway simulation needs -Djava.util.concurrent.ForkJoinPool.common.parallelism=2 "
          + "(it/pom.xml sets it for failsafe); this JVM's common pool has parallelism "
          + ForkJoinPool.getCommonPoolParallelism());
    }
  }

  private static ThreadPoolExecutor thread() {
    synchronized (monitor) {
      if (thread == null) {
        thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), task -> {
          Thread t = new Thread(task, "simulation");
          t.setDaemon(true);
          return t;
        }) {
          @Override
          protected void afterExecute(Runnable task, Throwable failure) {
            synchronized (monitor) {
              if (--inFlight == 0) monitor.notifyAll();
            }
          }
        };
      }
      return thread;
    }
  }

  /** A dispatcher's view of the one thread; shutting a dispatcher down leaves the thread to the others. */
  private static final class Shared extends AbstractExecutorService {
    private volatile boolean shutdown;

    @Override
    public void execute(Runnable task) {
      String caller = Thread.currentThread().getName();
      if (DEBUG && !caller.equals("simulation") && !caller.equals("main") && seen.add(caller)) {
        new Throwable("simulation task submitted from thread " + caller).printStackTrace(System.out);
      }
      synchronized (monitor) {
        inFlight++;
      }
      try {
        thread().execute(task);
      } catch (RuntimeException refused) {
        synchronized (monitor) {
          if (--inFlight == 0) monitor.notifyAll();
        }
        throw refused;
      }
    }

    @Override
    public void shutdown() {
      shutdown = true;
    }

    @Override
    public java.util.List<Runnable> shutdownNow() {
      shutdown = true;
      return java.util.List.of();
    }

    @Override
    public boolean isShutdown() {
      return shutdown;
    }

    @Override
    public boolean isTerminated() {
      return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return true;
    }
  }
}
