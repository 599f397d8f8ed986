mod wav;
