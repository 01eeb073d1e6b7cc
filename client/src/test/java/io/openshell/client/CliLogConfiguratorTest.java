package io.openshell.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class CliLogConfiguratorTest {
  @Test
  void theCliLogsErrorsOnlyAndStopsLogbacksSearch() {
    LoggerContext context = new LoggerContext();
    CliLogConfigurator configurator = new CliLogConfigurator();
    configurator.setContext(context);
    assertEquals(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, configurator.configure(context));
    assertEquals(Level.ERROR, context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel());
  }

  @Test
  void aJvmWithItsOwnLogbackFileKeepsIt() {
    LoggerContext context = new LoggerContext();
    CliLogConfigurator configurator = new CliLogConfigurator();
    configurator.setContext(context);
    String before = System.getProperty("logback.configurationFile");
    System.setProperty("logback.configurationFile", "/nonexistent/logback.xml");
    try {
      assertEquals(ExecutionStatus.INVOKE_NEXT_IF_ANY, configurator.configure(context));
      assertEquals(0, context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext() ? 1 : 0);
    } finally {
      if (before == null) System.clearProperty("logback.configurationFile");
      else System.setProperty("logback.configurationFile", before);
    }
  }
}
