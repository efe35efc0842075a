package io.sluice.spark;

import java.io.Serializable;
import java.sql.Date;
import java.sql.Timestamp;

/** One row of site_minutes: a minute's aggregate so far. */
public class MinuteRow implements Serializable {
  private String site;
  private String kind;
  private Date day;
  private Timestamp minute;
  private String unit;
  private long events;
  private double minValue;
  private double maxValue;
  private double sumValue;
  private double meanValue;
  private Timestamp updatedAt;

  public String getSite() { return site; }
  public void setSite(String v) { site = v; }
  public String getKind() { return kind; }
  public void setKind(String v) { kind = v; }
  public Date getDay() { return day; }
  public void setDay(Date v) { day = v; }
  public Timestamp getMinute() { return minute; }
  public void setMinute(Timestamp v) { minute = v; }
  public String getUnit() { return unit; }
  public void setUnit(String v) { unit = v; }
  public long getEvents() { return events; }
  public void setEvents(long v) { events = v; }
  public double getMinValue() { return minValue; }
  public void setMinValue(double v) { minValue = v; }
  public double getMaxValue() { return maxValue; }
  public void setMaxValue(double v) { maxValue = v; }
  public double getSumValue() { return sumValue; }
  public void setSumValue(double v) { sumValue = v; }
  public double getMeanValue() { return meanValue; }
  public void setMeanValue(double v) { meanValue = v; }
  public Timestamp getUpdatedAt() { return updatedAt; }
  public void setUpdatedAt(Timestamp v) { updatedAt = v; }
}
