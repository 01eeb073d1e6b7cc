package io.openshell.supervisor.threads;

import com.typesafe.config.Config;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;
import org.apache.pekko.dispatch.MonitorableThreadFactory;

/**
 * A Pekko executor for blocking I/O that reuses an idle thread when there is one and starts a new one
 * only when every thread is busy (a cached pool, capped). Pekko's {@code thread-pool-executor} cannot
 * express this: with a core size large enough for every blocked relay it starts a fresh thread for
 * every task until the core is full, so a busy relay created and retired thousands of threads a second.
 *
 * <p>Settings, in the dispatcher's {@code on-demand-thread-pool} block: {@code max-threads} (tasks
 * beyond it are rejected, as a full pool must not queue behind blocked reads) and {@code keep-alive}.
 */
public final class OnDemandThreadPool extends ExecutorServiceConfigurator {
  private final int maxThreads;
  private final long keepAliveMillis;

  public OnDemandThreadPool(Config config, DispatcherPrerequisites prerequisites) {
    super(config, prerequisites);
    Config pool = config.getConfig("on-demand-thread-pool");
    this.maxThreads = pool.getInt("max-threads");
    this.keepAliveMillis = pool.getDuration("keep-alive", TimeUnit.MILLISECONDS);
    if (maxThreads < 1) throw new IllegalArgumentException("on-demand-thread-pool.max-threads must be at least 1");
  }

  @Override
  public ExecutorServiceFactory createExecutorServiceFactory(String id, ThreadFactory threadFactory) {
    // Name the threads after the dispatcher, as Pekko's own executors do.
    ThreadFactory named = threadFactory instanceof MonitorableThreadFactory monitorable
        ? monitorable.withName(monitorable.name() + "-" + id) : threadFactory;
    return () -> new ThreadPoolExecutor(0, maxThreads, keepAliveMillis, TimeUnit.MILLISECONDS,
        new SynchronousQueue<>(), named);
  }
}
