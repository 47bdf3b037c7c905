"""The voice loop: speech in, the robot's reply, speech out (VoiceRobot, Listener, ConversationLoop). It joins
the speech leaf (robot/speech/) to the brain, as web/ and cli.py do for text."""
