package io.openshell.gateway.sandbox;

import io.openshell.protocol.compute.v1.ComputeDriver;

/** Lets tests in other packages use the scripted driver. */
public final class ScriptedDriverAccess {
  private final ScriptedDriver driver = new ScriptedDriver();

  public ComputeDriver driver() {
    return driver;
  }

  public void acceptNext() throws InterruptedException {
    driver.nextCall().outcome().complete(null);
  }
}
