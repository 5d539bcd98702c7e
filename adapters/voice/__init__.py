"""Speech in and out: recordings to text (an engine behind one interface), replies to speech."""
