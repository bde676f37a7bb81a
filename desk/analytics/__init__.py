"""Analytics: what is asked, how the bot answered, how fast experts responded.

* :mod:`desk.analytics.record` writes one :class:`store.models.TurnRecord` per widget user message
  (the gateway calls it when it stores the bot's replies);
* :mod:`desk.analytics.panels` turns the records, tickets and feedback of a date range into the
  dashboard (:class:`desk.analytics.figures.Dashboard`); a new panel is one builder added to
  :data:`desk.analytics.panels.PANELS`;
* :mod:`desk.analytics.export` writes the dashboard as CSV, :mod:`desk.analytics.report` the
  yearly-report figures of a month or a year;
* :mod:`desk.analytics.retention` clears the text and conversation ids after the retention time.
"""
